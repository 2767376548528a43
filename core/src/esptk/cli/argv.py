"""Command-line preprocessing that esptool users rely on.

* ``@file`` anywhere on the line is replaced by the arguments in that file (split like a shell
  would: quotes respected, newlines and spaces both separate); files may name further ``@files``.
* ``--flash_mode`` is accepted for ``--flash-mode`` (every long option, also ``--opt_x=value``).
* ``--diff-with a b`` (write-flash) takes values up to the next option, as esptool reads it.
"""

from __future__ import annotations

import os
import shlex

from ..errors import UsageError

MAX_DEPTH = 8
#: options whose values run until the next option (esptool reads them that way)
EAT_ALL = ("--diff-with",)


def expand_eat_all(args: list[str]) -> list[str]:
    """``--diff-with a b`` -> ``--diff-with a --diff-with b`` (values run until the next option)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        if arg in EAT_ALL:
            j = i + 1
            while j < len(args) and not args[j].startswith("-"):
                out += [arg, args[j]]
                j += 1
            if j == i + 1:
                out.append(arg)  # no value: let the parser report it
            i = j
            continue
        out.append(arg)
        i += 1
    return out


def expand_argfiles(args: list[str], _depth: int = 0, _base: str = ".") -> list[str]:
    out: list[str] = []
    for arg in args:
        if not (arg.startswith("@") and len(arg) > 1):
            out.append(arg)
            continue
        from ..fileio import NotRegularFile, read_regular

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
    return expand_eat_all(normalize_options(expand_argfiles(args)))
