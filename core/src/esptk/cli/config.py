"""The configuration file esptool users already have: ``esptk.cfg`` or ``esptool.cfg`` (``[esptk]`` or
``[esptool]`` section), ``setup.cfg`` or ``tox.ini`` (same sections), found as esptool finds it:
``ESPTK_CFGFILE``/``ESPTOOL_CFGFILE``, else the current directory, else the user's config folder,
else the home folder. Timeouts, attempts, the reset delay and custom reset sequences (PROTOCOL.md 2.4,
4.1, 4.8); the keys and their defaults are esptool's (its configuration-file documentation).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import configparser
    from pathlib import Path

from ..errors import UsageError

NAMES = ("esptk.cfg", "esptool.cfg", "setup.cfg", "tox.ini")
SECTIONS = ("esptk", "esptool")
#: config key -> attribute of esptk.protocol.timeouts
TIMEOUTS = {
    "timeout": "DEFAULT", "chip_erase_timeout": "CHIP_ERASE", "max_timeout": "MAX", "sync_timeout": "SYNC",
    "md5_timeout_per_mb": "MD5_PER_MB", "erase_region_timeout_per_mb": "ERASE_REGION_PER_MB",
    "erase_write_timeout_per_mb": "ERASE_WRITE_PER_MB", "mem_end_rom_timeout": "MEM_END_ROM",
    "serial_write_timeout": "SERIAL_WRITE",
}
#: key -> the smallest value that makes sense (open_port_attempts 0: until the port opens)
INTS = {"connect_attempts": None, "write_block_attempts": 1, "open_port_attempts": 0}
FLOATS = ("reset_delay",)
SEQUENCES = ("custom_reset_sequence", "custom_hard_reset_sequence")


@dataclass
class Config:
    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    #: files passed over because they are not valid INI (another tool's broken setup.cfg, say)
    warnings: list[str] = field(default_factory=list)
    #: the custom sequences as written (esptool's log names the one it ran)
    texts: dict[str, str] = field(default_factory=dict)


def _candidate_names(cwd: Path | None = None) -> list[str]:
    """The candidates as strings (pathlib is imported only when a file is found: ~5 ms at start-up)."""
    env = os.environ.get("ESPTK_CFGFILE") or os.environ.get("ESPTOOL_CFGFILE")
    if env:
        return [env]
    here = os.fspath(cwd) if cwd is not None else os.getcwd()
    home = os.path.expanduser("~")
    user = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    # esptool looks for each of its names in the current folder, its user config folder, then home
    return [os.path.join(folder, n) for folder in (here, os.path.join(user, "esptk"), os.path.join(user, "esptool"),
                                                   home) for n in NAMES]


def candidates(cwd: Path | None = None) -> list[Path]:
    from pathlib import Path

    return [Path(n) for n in _candidate_names(cwd)]


def _section(parser: configparser.ConfigParser) -> str | None:
    return next((s for s in SECTIONS if parser.has_section(s)), None)


def find(cwd: Path | None = None) -> Config:
    """The first candidate file with an ``[esptk]`` or ``[esptool]`` section, parsed and checked."""
    explicit = bool(os.environ.get("ESPTK_CFGFILE") or os.environ.get("ESPTOOL_CFGFILE"))
    passed_over: list[str] = []
    for name in _candidate_names(cwd):
        if not os.path.isfile(name):
            if explicit:
                from pathlib import Path

                path = Path(name)
                raise UsageError(f"config file {path} does not exist", hint="check ESPTK_CFGFILE / ESPTOOL_CFGFILE")
            continue
        import configparser
        from pathlib import Path

        path = Path(name)
        parser = configparser.ConfigParser(interpolation=None)  # values are taken as written ('%' too)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as e:
            if explicit:  # the user named this file
                raise UsageError(f"config file {path} cannot be read: {e}".splitlines()[0],
                                 hint="it is an INI file with an [esptk] or [esptool] section") from None
            passed_over.append(f"ignoring {path}: it is not a valid INI file ({str(e).splitlines()[0]})")
            continue
        section = _section(parser)
        if section is None:
            continue
        cfg = parse(path, dict(parser.items(section)))
        cfg.warnings = passed_over
        return cfg
    return Config(warnings=passed_over)


def parse(path: Path, raw: dict[str, str]) -> Config:
    cfg = Config(path)
    for key, text in raw.items():
        try:
            if key in TIMEOUTS or key in FLOATS:
                cfg.values[key] = float(text)
                if key in FLOATS and cfg.values[key] < 0:
                    raise UsageError(f"{path}: {key} = {text} is negative", hint=f"e.g. {key} = 0.05")
            elif key in INTS:
                cfg.values[key] = int(text, 0)
                least = INTS[key]
                if least is not None and cfg.values[key] < least:
                    raise UsageError(f"{path}: {key} = {text} is less than {least}",
                                     hint=f"e.g. {key} = {max(least, 1)}" + (" (0: until the port opens)"
                                                                              if key == "open_port_attempts" else ""))
            elif key in SEQUENCES:
                from ..reset import ResetSequence

                cfg.values[key] = ResetSequence.parse(key, text)
                cfg.texts[key] = text.strip()
            else:
                cfg.unknown.append(key)
        except ValueError:
            raise UsageError(f"{path}: {key} = {text!r} is not a number", hint="e.g. timeout = 5") from None
    return cfg


_SAVED: dict[str, float] = {}  #: built-in timeouts, restored before each run (in-process callers)
APPLIED = Config()  #: what the last apply() put in force
PLUGIN_NAME = "config-file-resets"


def apply(cfg: Config) -> None:
    """Set the timeouts; register the custom reset sequences (the only ones used, as esptool does).
    What an earlier run in this process applied is undone first."""
    from ..protocol import timeouts as T  # noqa: N812

    global APPLIED
    APPLIED = cfg
    for attr, value in _SAVED.items():
        setattr(T, attr, value)
    from . import state

    if state._REGISTRY is not None and state._REGISTRY.pm.has_plugin(PLUGIN_NAME):
        state._REGISTRY.pm.unregister(name=PLUGIN_NAME)
    for key, attr in TIMEOUTS.items():
        if key in cfg.values:
            _SAVED.setdefault(attr, getattr(T, attr))
            setattr(T, attr, cfg.values[key])
    seqs = {mode: cfg.values[k] for mode, k in (("default_reset", "custom_reset_sequence"),
                                                 ("hard_reset", "custom_hard_reset_sequence")) if k in cfg.values}
    if seqs:
        from .state import registry

        registry().pm.register(_custom_resets(seqs), name=PLUGIN_NAME)


def _custom_resets(seqs: dict[str, Any]) -> object:
    """A hook wrapper: where the config file names a sequence for a mode, only that one is used."""
    from .. import hookimpl

    class CustomResets:
        @hookimpl(wrapper=True)
        def esptk_reset_sequences(self, mode: str, capabilities: Any, chip: Any) -> Any:
            found: Sequence[Sequence[Any]] = yield
            custom = seqs.get(mode)
            # only where the link has control lines (some plugin offered a sequence)
            return [[custom]] if custom is not None and any(found) else found

    return CustomResets()
