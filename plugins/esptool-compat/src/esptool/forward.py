"""``espefuse`` and ``espsecure``: forward to ``esptk efuse`` and ``esptk secure``."""

from __future__ import annotations

import sys

from . import FatalError
from .guard import HINT, conflict

#: esptk's global options (with a value) that espefuse/espsecure take before their command
GLOBAL_VALUE = {"--chip", "-c", "--port", "-p", "--baud", "-b", "--before", "--after", "-a", "--connect-attempts"}
GLOBAL_FLAG = {"--trace", "-t", "--debug"}


def split_globals(args: list[str]) -> tuple[list[str], list[str]]:
    """(esptk's global options, the rest) from an espefuse/espsecure command line."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0].replace("_", "-") if a.startswith("--") else a
        if name in GLOBAL_VALUE and "=" not in a and i + 1 < len(args):
            front += [name, args[i + 1]]
            i += 2
            continue
        if name in GLOBAL_VALUE or name in GLOBAL_FLAG:
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front, rest


def _forward(group: str, tool: str) -> None:
    from esptk.cli import main as esptk_main

    why = conflict()
    if why is not None:
        print(f"\nA fatal error occurred: {why}; refusing to run ({HINT})", file=sys.stderr)
        sys.exit(2)
    try:
        front, rest = split_globals(sys.argv[1:])
        rc = esptk_main([*front, group, *rest], prog=tool, raise_as=FatalError)
    except FatalError as e:
        print(f"\nA fatal error occurred: {e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(0 if rc == 0 else 2)


def espefuse() -> None:
    _forward("efuse", "espefuse")


def espsecure() -> None:
    _forward("secure", "espsecure")
