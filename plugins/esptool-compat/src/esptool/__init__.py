"""esptool's entry points, run by esptk (distribution esptk-esptool-compat).

``main(argv)`` behaves as esptool's for a caller in the same process: ``None`` on success,
:class:`FatalError` for operational failures, ``SystemExit(2)`` for a command line it refuses.
"""

from __future__ import annotations

import sys

__version__ = "5.6.0"  # the esptool command line this package accepts (esptk's own version: `esptool version`)
__all__ = ["FatalError", "NotImplementedInROMError", "main"]


class FatalError(RuntimeError):
    """An operation failed (esptool's exception of the same name)."""


class NotImplementedInROMError(FatalError):
    """The ROM loader lacks a function (esptool's exception of the same name)."""


def main(argv: list[str] | None = None, esp: object = None) -> None:
    """Run one esptool command line (``sys.argv[1:]`` by default) in this process."""
    from esptk.cli import main as esptk_main

    from .guard import HINT, conflict

    why = conflict()
    if why is not None:
        raise FatalError(f"{why}; refusing to run ({HINT})")
    if esp is not None:
        raise FatalError("esptool.main(esp=...) is not supported: esptk opens the port itself")
    args = list(sys.argv[1:] if argv is None else argv)
    if [a for a in args if not a.startswith("-")] == ["version"] and "--help" not in args:
        _print_version()
        return None
    rc = esptk_main(args, prog="esptool", raise_as=FatalError, log_format="esptool")
    if rc == 0:
        return None
    if rc == 130:
        raise KeyboardInterrupt
    if rc == 2:
        raise SystemExit(2)
    raise FatalError(f"esptk exited with code {rc} (see the messages above)")


def _print_version() -> None:
    """esptool's ``version`` output: a banner, then the bare version tools parse (the esptool command
    line this package accepts); the banner names esptk's own version too."""
    from esptk import __version__ as esptk_version

    print(f"esptool v{__version__} (esptk {esptk_version}, through esptk-esptool-compat)")
    print(__version__)


def _main() -> None:
    """The ``esptool`` / ``esptool.py`` executables: exit 0 on success, 2 on any error, as esptool."""
    try:
        main()
    except FatalError as e:
        print(f"\nA fatal error occurred: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("KeyboardInterrupt: Run cancelled by user.", file=sys.stderr)
        sys.exit(2)
    sys.exit(0)
