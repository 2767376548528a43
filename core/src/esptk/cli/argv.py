"""Command-line preprocessing that esptool users rely on.

* ``@file`` anywhere on the line is replaced by the arguments in that file (split like a shell
  would: quotes respected, newlines and spaces both separate); files may name further ``@files``.
* ``--flash_mode`` is accepted for ``--flash-mode`` (every long option, also ``--opt_x=value``).
"""

from __future__ import annotations

import os
import shlex

from ..errors import UsageError
from ..fileio import NotRegularFile, read_regular

MAX_DEPTH = 8


def expand_argfiles(args: list[str], _depth: int = 0, _base: str = ".") -> list[str]:
    out: list[str] = []
    for arg in args:
        if not (arg.startswith("@") and len(arg) > 1):
            out.append(arg)
            continue
        path = os.path.join(_base, arg[1:]) if _depth else arg[1:]
        if _depth >= MAX_DEPTH:
            raise UsageError(f"argument file {arg} nests too deeply", hint="is an @file including itself?")
        try:
            text = read_regular(path).decode("utf-8")
        except NotRegularFile:
            raise UsageError(f"argument file {path} is not a regular file",
                             hint="arguments starting with @ name a file of further arguments") from None
        except UnicodeDecodeError as e:
            raise UsageError(f"argument file {path} is not UTF-8 text (byte {e.start})",
                             hint="save the argument file as UTF-8") from None
        except OSError as e:
            raise UsageError(
                f"cannot read argument file {path}: {e.strerror or e}",
                hint="arguments starting with @ name a file of further arguments",
            ) from None
        try:
            words = shlex.split(text, comments=True)
        except ValueError as e:
            raise UsageError(f"argument file {path}: {e}", hint="check the quotes in the file") from None
        out.extend(expand_argfiles(words, _depth + 1, os.path.dirname(path) or "."))
    return out


def normalize_options(args: list[str]) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        if arg.startswith("--") and "_" in arg.split("=", 1)[0]:
            name, sep, value = arg.partition("=")
            arg = name.replace("_", "-") + sep + value
        out.append(arg)
    return out


def preprocess(args: list[str]) -> list[str]:
    from .write_options import expand_eat_all

    return expand_eat_all(normalize_options(expand_argfiles(args)))
