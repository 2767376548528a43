"""The ``esptk`` command line. The only package that imports typer and rich."""

from __future__ import annotations

import os
import sys
import traceback

import click

from ..errors import EsptkError, UsageError
from . import console
from .argv import preprocess


def _report(e: EsptkError) -> None:
    console.err.print(f"[bold red]error:[/] {console.escape(e.message)}")
    if e.hint:
        console.err.print(f"[dim]hint:[/] {console.escape(e.hint)}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 operational error, 2 usage, 130 interrupted)."""
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw or bool(os.environ.get("ESPTK_DEBUG"))
    try:
        args = preprocess(raw)
        import typer

        from .app import app

        cmd = typer.main.get_command(app)
        rc = cmd.main(args=args, prog_name="esptk", standalone_mode=False)
        return rc if isinstance(rc, int) else 0
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.ClickException as e:
        e.show()
        return e.exit_code
    except UsageError as e:
        _report(e)
        return 2
    except EsptkError as e:
        if debug:
            traceback.print_exc()
        _report(e)
        return 1
    except (KeyboardInterrupt, click.exceptions.Abort):
        console.err.print("interrupted")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001 - a bug: say so, one line unless --debug
        if debug:
            traceback.print_exc()
        console.err.print(f"[bold red]internal error:[/] {type(e).__name__}: {console.escape(str(e))}")
        console.err.print("[dim]hint:[/] this is a bug in esptk; rerun with --debug and report the traceback")
        return 1


def run() -> None:
    sys.exit(main())
