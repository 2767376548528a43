"""Start-up fast path: the offline image commands and ``--help`` without building the typer app.

Importing typer (with its vendored click) and building the app costs more than esptool's whole
start-up. Two caches, both written by an ordinary (typer) run and both generated from the same
command definitions, let later runs skip it:

* **the command spec**: for the global options and the image commands (:data:`COMMANDS`), every
  parameter as click sees it (option names, flag or value, type, default, environment variables,
  required) and the function typer calls with it. A command line that parses under the plain rules
  below runs the same functions with the same values; anything else (``--help`` of a command, an
  unknown or repeated option, a value that does not convert, a short-option cluster, ``--``, a
  callback that rejects its value...) goes to typer, which reports it as always.
* **the help text** of ``esptk --help`` / ``esptk -h`` when stdout is not a terminal (click's plain
  text; a terminal gets rich's rendering from typer), per terminal width.

:mod:`esptk.cli.fastcache` writes them. Both live next to the entry-point cache, keyed by the environment's fingerprint
(:func:`esptk.epcache.fingerprint`) and the size and time of every esptk source file the typer run
loaded: installing, removing or editing code invalidates them. ``ESPTK_NO_FAST=1`` turns this off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

#: commands the fast path may run (offline, their functions import no typer; see tests/cli)
COMMANDS = ("elf2image", "merge-bin", "make-image", "image-info")
HELP_ARGS = ("--help", "-h")
SPEC_VERSION = 1


class _Source:
    def __init__(self, name: str) -> None:
        self.name = name


class FastContext:
    """What the fast-path commands use of click's context: ``obj``, ``find_object`` and where a
    global option's value came from."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.obj: Any = None
        self._sources = sources

    def find_object(self, kind: type) -> Any:
        return self.obj if isinstance(self.obj, kind) else None

    def get_parameter_source(self, name: str) -> _Source | None:
        source = self._sources.get(name)
        return None if source is None else _Source(source)


class NotFast(Exception):
    """This command line is typer's to handle."""


# ------------------------------------------------------------------ cache files


def _current(data: dict[str, Any], key: str) -> bool:
    if data.get("version") != SPEC_VERSION or data.get("key") != key:
        return False
    for path, mtime, size in data["files"]:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if st.st_mtime_ns != mtime or st.st_size != size:
            return False
    return True


def _load(kind: str, key: str) -> dict[str, Any] | None:
    from ..epcache import read

    data = read(f"cli-{kind}", key)
    try:
        return data if data is not None and _current(data, key) else None
    except (TypeError, KeyError, ValueError):
        return None


def _spec_key() -> str:
    from ..epcache import fingerprint

    return fingerprint()


def _columns() -> int:
    """``shutil.get_terminal_size().columns`` (what click's help formatter reads), without shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _help_key(args: list[str], prog: str) -> str:
    from ..epcache import fingerprint

    env = [os.environ.get(v, "") for v in ("ESPTK_PLUGINS", "ESPTK_DISABLE_PLUGINS")]
    return "\n".join([fingerprint(), prog, " ".join(args), str(_columns()), *env])


# ------------------------------------------------------------------ the fast path


def try_run(args: list[str], prog: str) -> int | None:
    """Run ``args`` without typer if the caches allow; None: typer must run it."""
    if os.environ.get("ESPTK_NO_FAST") or f"_{prog}_COMPLETE".replace("-", "_").upper() in os.environ:
        return None
    if len(args) == 1 and args[0] in HELP_ARGS:
        return _help(args, prog)
    if not args:
        return None
    spec = _load("spec", _spec_key())
    if spec is None:
        return None
    try:
        root_values, sources, name, cmd_values = parse(spec, args)
    except NotFast:
        return None
    ctx = FastContext(sources)
    _function(spec["root"]["function"])(**{spec["root"]["ctx"]: ctx}, **root_values)
    cmd = spec["commands"][name]
    rc = _function(cmd["function"])(**{cmd["ctx"]: ctx}, **cmd_values)
    return rc if isinstance(rc, int) else 0


def _help(args: list[str], prog: str) -> int | None:
    if _stdout_is_terminal():
        return None
    data = _load("help", _help_key(args, prog))
    if data is None:
        return None
    sys.stdout.write(data["text"])
    sys.stdout.flush()
    return int(data["rc"])


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _function(ref: str) -> Callable[..., Any]:
    import importlib

    module, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def parse(spec: dict[str, Any], args: list[str]) -> tuple[dict[str, Any], dict[str, str], str, dict[str, Any]]:
    root = spec["root"]
    given, rest = _scan(root["params"], args, interspersed=False)
    if not rest:
        raise NotFast
    name = rest[0].replace("_", "-")
    cmd = spec["commands"].get(name)
    if cmd is None:
        raise NotFast
    cmd_given, positional = _scan(cmd["params"], rest[1:], interspersed=True)
    if not rest[1:]:
        raise NotFast
    _assign(cmd["params"], positional, cmd_given)
    root_values, sources = _values(root["params"], given)
    cmd_values, _ = _values(cmd["params"], cmd_given)
    return root_values, sources, name, cmd_values


def _scan(params: list[dict[str, Any]], tokens: list[str],
          interspersed: bool) -> tuple[dict[str, list[Any]], list[str]]:
    """Options by parameter name, and the other tokens (all of them, or from the first on)."""
    opts = {o: p for p in params if p["kind"] == "option" for o in p["opts"]}
    given: dict[str, list[Any]] = {}
    positional: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            raise NotFast
        if token[:1] != "-" or len(token) == 1:
            if not interspersed:
                return given, tokens[i:]
            positional.append(token)
            i += 1
            continue
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        p = opts.get(name)
        if p is None:
            raise NotFast
        if p["flag"]:
            if eq:
                raise NotFast
            value_: Any = True
            i += 1
        elif eq:
            value_ = value
            i += 1
        else:
            if i + 1 >= len(tokens) or (tokens[i + 1][:1] == "-" and len(tokens[i + 1]) > 1):
                raise NotFast
            value_ = tokens[i + 1]
            i += 2
        if p["name"] in given and not p["multi"]:
            raise NotFast
        given.setdefault(p["name"], []).append(value_)
    return given, positional


def _assign(params: list[dict[str, Any]], positional: list[str], given: dict[str, list[Any]]) -> None:
    """Positional tokens to the arguments, in order (one each, or all the rest for nargs=-1)."""
    left = list(positional)
    for p in params:
        if p["kind"] != "argument":
            continue
        if p["multi"]:
            if left:
                given[p["name"]] = left
            left = []
        elif left:
            given[p["name"]] = [left.pop(0)]
    if left:
        raise NotFast


def _values(params: list[dict[str, Any]], given: dict[str, list[Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for p in params:
        raw = given.get(p["name"])
        if raw is not None and p["eager"]:
            raise NotFast  # --version: typer's
        source = "COMMANDLINE"
        if raw is None:
            env = next((v for v in (os.environ.get(e) for e in p["envvar"] or ()) if v), None)
            if env is not None:
                if p["flag"] or p["multi"]:
                    raise NotFast
                raw, source = [env], "ENVIRONMENT"
        if raw is None:
            if p["required"]:
                raise NotFast
            value: Any = p["default"]
            source = "DEFAULT"
        elif p["multi"]:
            value = list(raw)
        elif p["flag"]:
            value = True
        elif p["type"] == "integer":
            text = raw[0].strip()
            if not (text.lstrip("+-").isdigit() and text.isascii()):
                raise NotFast
            value = int(text)
        else:
            value = raw[0]
        if p["callback"]:
            try:
                value = _function(p["callback"])(value)
            except Exception as e:  # noqa: BLE001 - typer reports it as it always does
                raise NotFast from e
        values[p["name"]] = value
        sources[p["name"]] = source
    return values, sources
