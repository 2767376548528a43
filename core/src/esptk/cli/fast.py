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

Both live next to the entry-point cache, keyed by the environment's fingerprint
(:func:`esptk.epcache.fingerprint`) and the size and time of every esptk source file the typer run
loaded: installing, removing or editing code invalidates them. ``ESPTK_NO_FAST=1`` turns this off.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

#: commands the fast path may run (offline, their functions import no typer; see tests/cli)
COMMANDS = ("elf2image", "merge-bin", "make-image", "image-info")
HELP_ARGS = ("--help", "-h")
SPEC_VERSION = 1
_TYPE_CLASSES = ("StringParamType", "IntParamType", "BoolParamType")
#: click's type names (typer's vendored click says "str" and "int") -> the spec's
_TYPES = {"str": "text", "text": "text", "int": "integer", "integer": "integer", "boolean": "boolean"}


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


def _path(kind: str, key: str) -> str:
    """One file per key (``python -m esptk`` and the ``esptk`` script see different ``sys.path``)."""
    import zlib

    from ..epcache import cache_folder, tag

    return str(cache_folder() / f"cli-{kind}-{tag()}-{zlib.crc32(key.encode()):08x}.json")


KEEP = 8  #: cache files kept per kind and environment (the newest)


def _source_files() -> list[list[Any]]:
    """[path, mtime_ns, size] of every loaded module that an install does not cover: esptk's and its
    plugins' modules, and any module from outside the environment (editable installs)."""
    out = []
    prefixes = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
    for name, module in sorted(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or not (name.startswith("esptk") or not path.startswith(prefixes)):
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        out.append([path, st.st_mtime_ns, st.st_size])
    return out


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
    try:
        with open(_path(kind, key), encoding="utf-8") as f:
            data = json.load(f)
        return data if _current(data, key) else None
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _store(kind: str, data: dict[str, Any]) -> None:
    path = _path(kind, data["key"])
    folder, name = os.path.split(path)
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
        prefix = name.rsplit("-", 1)[0] + "-"
        old = sorted((e for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".json")),
                     key=lambda e: e.stat().st_mtime_ns, reverse=True)
        for entry in old[KEEP:]:
            os.unlink(entry.path)
    except OSError:
        pass  # a read-only home: no cache, same behaviour


def _spec_key() -> str:
    from ..epcache import fingerprint

    return fingerprint()


def _help_key(args: list[str], prog: str) -> str:
    import shutil

    from ..epcache import fingerprint

    env = [os.environ.get(v, "") for v in ("ESPTK_PLUGINS", "ESPTK_DISABLE_PLUGINS")]
    return "\n".join([fingerprint(), prog, " ".join(args), str(shutil.get_terminal_size().columns), *env])


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


# ------------------------------------------------------------------ writing the caches (typer runs)


def _ref(func: Any) -> str | None:
    qualname = getattr(func, "__qualname__", "")
    if "<locals>" in qualname or not getattr(func, "__module__", None):
        return None
    return f"{func.__module__}:{qualname}"


def _describe(click_cmd: Any, func: Any, group: bool = False) -> dict[str, Any] | None:
    """The spec of one command (None: not for the fast path)."""
    from typer.utils import get_params_from_function

    infos = get_params_from_function(func)
    ctx_names = [n for n in infos if n not in {p.name for p in click_cmd.params}]
    if (len(ctx_names) != 1 or _ref(func) is None or click_cmd.ignore_unknown_options
            or (click_cmd.allow_extra_args and not group) or getattr(click_cmd, "chain", False)
            or click_cmd.allow_interspersed_args == group):
        return None
    params = []
    for p in click_cmd.params:
        info = infos.get(p.name)
        callback = getattr(getattr(info, "default", None), "callback", None)
        kind = p.param_type_name
        multi = bool(getattr(p, "multiple", False)) or p.nargs == -1
        flag = bool(getattr(p, "is_flag", False))
        type_ = _TYPES.get(p.type.name) if type(p.type).__name__ in _TYPE_CLASSES else None
        const = getattr(p, "flag_value", getattr(p, "_depr_flag_value", None))
        if (info is None or kind not in ("option", "argument") or type_ is None or not p.expose_value
                or getattr(p, "prompt", None) is not None or getattr(p, "deprecated", False)
                or getattr(p, "count", False) or p.nargs not in (1, -1) or (p.nargs == -1 and kind == "option")
                or (callback is not None and _ref(callback) is None)
                or (multi and (p.default is not None or type_ != "text"))
                or (flag and (type_ != "boolean" or const is not True or p.default is not False
                              or getattr(p, "secondary_opts", None)))
                or (not flag and type_ == "boolean")):
            return None
        envvar = [p.envvar] if isinstance(p.envvar, str) else list(p.envvar or [])
        params.append({"name": p.name, "kind": kind, "opts": list(p.opts), "flag": flag, "multi": multi,
                       "type": type_, "default": p.default, "required": bool(p.required), "eager": bool(p.is_eager),
                       "envvar": envvar, "callback": _ref(callback) if callback is not None else None})
    args = [p for p in params if p["kind"] == "argument"]
    if any(p["multi"] for p in args[:-1]):
        return None
    return {"function": _ref(func), "ctx": ctx_names[0], "params": params}


def build_spec(app: Any, group: Any) -> dict[str, Any] | None:
    """The spec of the global options and :data:`COMMANDS` (those that qualify) from typer's app and
    the click group it built."""
    try:
        root = _describe(group, app.registered_callback.callback, group=True)
        if root is None or any(p["kind"] != "option" for p in root["params"]):
            return None
        commands = {}
        for info in app.registered_commands:
            if info.name in COMMANDS and info.name in group.commands:
                described = _describe(group.commands[info.name], info.callback)
                if described is not None:
                    commands[info.name] = described
        json.dumps([root, commands])  # defaults must be plain values
    except (AttributeError, TypeError, ValueError):
        return None
    return {"root": root, "commands": commands}


def write_spec(app: Any, group: Any) -> None:
    """After typer built ``group`` from ``app``: store the spec unless the stored one is current."""
    key = _spec_key()
    if _load("spec", key) is not None:
        return
    spec = build_spec(app, group)
    if spec is not None:
        _store("spec", {"version": SPEC_VERSION, "key": key, "files": _source_files(), **spec})


def write_help(args: list[str], prog: str, text: str, rc: int) -> None:
    """After typer printed the help for ``args``: store it (stdout was not a terminal)."""
    from . import state

    reg = state._REGISTRY
    if reg is not None and any(r.status == "error" for r in reg.records):
        return  # a plugin failed to load: its warning is no part of the help
    key = _help_key(args, prog)
    _store("help", {"version": SPEC_VERSION, "key": key, "files": _source_files(), "text": text, "rc": rc})
