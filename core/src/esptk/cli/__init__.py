"""The ``esptk`` command line. The only package that imports typer and rich."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..errors import EsptkError, UsageError
from . import console, state
from .argv import preprocess


def _report(e: EsptkError) -> None:
    console.end_progress()  # a bar still drawn (the step that failed) is cleared before the error
    console.err.print(f"[bold red]error:[/] {console.escape(e.message)}")
    if e.hint:
        console.err.print(f"[dim]hint:[/] {console.escape(e.hint)}")


INTERRUPTED = 130
_JSON_ERRORS = False


def main(argv: list[str] | None = None, *, prog: str = "esptk", raise_as: type[Exception] | None = None,
         log_format: str | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 operational error, 2 usage, 130 interrupted).

    ``raise_as``: operational errors are raised as this exception type (message and hint) instead of
    being reported (for callers that run esptk in their own process, e.g. the esptool compat package).
    ``log_format``: the log format unless the command line chooses one.
    """
    global _JSON_ERRORS
    console.printed_json = False
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw or bool(os.environ.get("ESPTK_DEBUG"))
    _JSON_ERRORS = "--json" in raw[: raw.index("--")] if "--" in raw else "--json" in raw
    state.LOGGING.update(wanted=True, debug=debug)
    state.PROG["name"] = prog
    if "logging" in sys.modules:  # already imported (an in-process caller): as before, at once
        state.configure_logging()
    try:
        args = preprocess(raw)
        if log_format and not any(a == "--log-format" or a.startswith("--log-format=") for a in args):
            args = ["--log-format", log_format, *args]
        from . import fast

        rc = fast.try_run(args, prog)
        if rc is None:
            rc = _run_typer(args, prog)
        if rc == INTERRUPTED:  # typer turns a KeyboardInterrupt inside a command into Exit(130)
            return _aborted()
        return rc if isinstance(rc, int) else 0
    except Exception as e:  # noqa: BLE001 - sorted out below
        if raise_as is not None and isinstance(e, EsptkError) and not isinstance(e, UsageError):
            raise raise_as(e.message + (f" ({e.hint})" if e.hint else "")) from e
        return _json_error(e, _handle(e, debug))
    except KeyboardInterrupt:
        return _aborted()


def _run_typer(args: list[str], prog: str) -> Any:
    state.configure_logging()
    import typer

    from . import fast, fastcache
    from .app import app

    # help for a pipe or a file: click's plain text (rich's boxes need a terminal, and ~100 ms)
    terminal = _stdout_is_terminal()
    app.rich_markup_mode = "rich" if terminal else None
    cmd = typer.main.get_command(app)
    fastcache.write_spec(app, cmd)
    if terminal or not (len(args) == 1 and args[0] in fast.HELP_ARGS):
        return cmd.main(args=args, prog_name=prog, standalone_mode=False)
    import contextlib
    import io

    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            rc = cmd.main(args=args, prog_name=prog, standalone_mode=False)
    finally:
        sys.stdout.write(buf.getvalue())
        sys.stdout.flush()
    if isinstance(rc, int):
        fastcache.write_help(args, prog, buf.getvalue(), rc)
    return rc


def _aborted() -> int:
    """Ctrl-C: end the progress line, say so, exit 130 (128 + SIGINT, as shells report it)."""
    console.end_progress()
    console.err.print("Aborted", markup=False)
    return INTERRUPTED


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _json_error(e: Exception, rc: int) -> int:
    """With --json, every error is also one JSON object on stdout: error, hint, exit code (unless the
    command printed its own object, which then carries the outcome)."""
    if _JSON_ERRORS and rc and not console.printed_json:
        if isinstance(e, EsptkError):
            msg, hint = e.message, e.hint
        else:
            msg, hint = (getattr(e, "format_message", None) or (lambda: str(e)))(), None
        console.out_json({"error": msg, "hint": hint, "exit_code": rc, "type": type(e).__name__})
    return rc


def _is_cli_exception(e: BaseException) -> bool:
    """click's (or typer's vendored click's) usage errors: they know how to show themselves."""
    return hasattr(e, "show") and isinstance(getattr(e, "exit_code", None), int)


def _handle(e: Exception, debug: bool) -> int:
    typer = sys.modules.get("typer")  # not imported: not one of its exceptions (the fast path ran)
    if typer is not None and isinstance(e, typer.Exit):
        return int(getattr(e, "exit_code", 0) or 0)
    if typer is not None and isinstance(e, typer.Abort):
        return _aborted()
    if isinstance(e, EsptkError):
        if debug:
            import traceback

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
        import traceback

        traceback.print_exception(e)
    console.err.print(f"[bold red]internal error:[/] {type(e).__name__}: {console.escape(str(e))}")
    console.err.print("[dim]hint:[/] this is a bug in esptk; rerun with --debug and report the traceback")
    return 1


def run() -> None:
    sys.exit(main())
