"""The ``esptk`` command line. The only package that imports typer and rich."""

from __future__ import annotations

import logging
import os
import sys
import traceback

from ..errors import EsptkError, UsageError
from . import console
from .argv import preprocess


def _report(e: EsptkError) -> None:
    console.err.print(f"[bold red]error:[/] {console.escape(e.message)}")
    if e.hint:
        console.err.print(f"[dim]hint:[/] {console.escape(e.hint)}")


INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 operational error, 2 usage, 130 interrupted)."""
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw or bool(os.environ.get("ESPTK_DEBUG"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="warning: %(message)s")
    try:
        args = preprocess(raw)
        import typer

        from .app import app

        cmd = typer.main.get_command(app)
        rc = cmd.main(args=args, prog_name="esptk", standalone_mode=False)
        if rc == INTERRUPTED:  # typer turns a KeyboardInterrupt inside a command into Exit(130)
            return _aborted()
        return rc if isinstance(rc, int) else 0
    except Exception as e:  # noqa: BLE001 - sorted out below
        return _handle(e, debug)
    except KeyboardInterrupt:
        return _aborted()


def _aborted() -> int:
    """Ctrl-C: end the progress line, say so, exit 130 (128 + SIGINT, as shells report it)."""
    console.end_progress()
    console.err.print("Aborted", markup=False)
    return INTERRUPTED


def _is_cli_exception(e: BaseException) -> bool:
    """click's (or typer's vendored click's) usage errors: they know how to show themselves."""
    return hasattr(e, "show") and isinstance(getattr(e, "exit_code", None), int)


def _handle(e: Exception, debug: bool) -> int:
    import typer

    if isinstance(e, typer.Exit):
        return int(getattr(e, "exit_code", 0) or 0)
    if isinstance(e, typer.Abort):
        return _aborted()
    if isinstance(e, EsptkError):
        if debug:
            traceback.print_exception(e)
        _report(e)
        return 2 if isinstance(e, UsageError) else 1
    if isinstance(e, BrokenPipeError):
        return 1
    if _is_cli_exception(e):
        from .checks import tidy_option_error

        tidy_option_error(e)
        e.show()  # type: ignore[attr-defined]
        return int(e.exit_code)  # type: ignore[attr-defined]
    if debug:
        traceback.print_exception(e)
    console.err.print(f"[bold red]internal error:[/] {type(e).__name__}: {console.escape(str(e))}")
    console.err.print("[dim]hint:[/] this is a bug in esptk; rerun with --debug and report the traceback")
    return 1


def run() -> None:
    sys.exit(main())
