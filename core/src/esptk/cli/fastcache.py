"""Writing the caches of the start-up fast path (:mod:`esptk.cli.fast`), after a typer run."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from .fast import COMMANDS, SPEC_VERSION, _help_key, _load, _spec_key

#: click's type classes and names (typer's vendored click says "str" and "int") -> the spec's
_TYPE_CLASSES = ("StringParamType", "IntParamType", "BoolParamType")
_TYPES = {"str": "text", "text": "text", "int": "integer", "integer": "integer", "boolean": "boolean"}


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


def _store(kind: str, data: dict[str, Any]) -> None:
    from ..epcache import write

    write(f"cli-{kind}", data)


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
