"""The global options (typer's root callback) and ``state(ctx)``, without importing typer.

The annotations name ``typer`` but are strings (``from __future__ import annotations``): typer
evaluates them when it builds the app (:mod:`esptk.cli.app` puts ``typer`` into this module's
globals first). The start-up fast path (:mod:`esptk.cli.fast`) calls :func:`root` and the callbacks
below directly, with the values parsed from the same definitions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from .. import __version__
from . import checks
from .state import AppState

if TYPE_CHECKING:
    import typer

BEFORE = ("default_reset", "usb_reset", "no_reset", "no_reset_no_sync", "esp32r0")
AFTER = ("hard_reset", "soft_reset", "no_reset", "no_reset_stub", "watchdog_reset")


def _norm_choice(choices: tuple[str, ...], opt: str, value: str) -> str:
    v = value.strip().lower().replace("-", "_")
    if v not in choices:
        import typer

        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(c.replace('_', '-') for c in choices)}", param_hint=opt
        )
    return v


def before_choice(value: str) -> str:
    return _norm_choice(BEFORE, "--before", value)


def after_choice(value: str) -> str:
    return _norm_choice(AFTER, "--after", value)


def show_version(value: bool) -> None:
    if value:
        import typer

        typer.echo(f"esptk {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    chip: Annotated[str, typer.Option("--chip", "-c", envvar=["ESPTK_CHIP", "ESPTOOL_CHIP"],
                                      help="Chip type (auto detects).")] = "auto",
    port: Annotated[str | None, typer.Option("--port", "-p", envvar=["ESPTK_PORT", "ESPTOOL_PORT"],
                                             help="Serial port, socket://HOST:PORT, rfc2217://... or sim://CHIP.",
                                             )] = None,
    baud: Annotated[int, typer.Option("--baud", "-b", envvar=["ESPTK_BAUD", "ESPTOOL_BAUD"], callback=checks.baud,
                                      help="Baud rate used after connecting.")] = 115200,
    before: Annotated[str, typer.Option(envvar=["ESPTK_BEFORE", "ESPTOOL_BEFORE"], callback=before_choice,
                                        help="Reset before: " + ", ".join(BEFORE) + ".")] = "default_reset",
    after: Annotated[str, typer.Option("--after", "-a", envvar=["ESPTK_AFTER", "ESPTOOL_AFTER"],
                                       callback=after_choice,
                                       help="Reset after: " + ", ".join(AFTER) + ".")] = "hard_reset",
    no_stub: Annotated[bool, typer.Option("--no-stub", envvar=["ESPTK_NO_STUB"],
                                          help="Talk to the ROM loader; do not upload the stub.")] = False,
    trace: Annotated[bool, typer.Option("--trace", "-t", help="Print every packet (stderr).")] = False,
    connect_attempts: Annotated[int, typer.Option(
        envvar=["ESPTK_CONNECT_ATTEMPTS", "ESPTOOL_CONNECT_ATTEMPTS"],
        help="Connection attempts (0 or less: forever).")] = 7,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object with the results.")] = False,
    debug: Annotated[bool, typer.Option("--debug", envvar=["ESPTK_DEBUG"],
                                        help="Show tracebacks of errors.")] = False,
    quiet: Annotated[bool, typer.Option("--silent", "-s", "--quiet", "-q", help="Print less.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more.")] = False,
    log_format: Annotated[str | None, typer.Option(
        "--log-format", help="esptool: esptool's progress lines on stdout; esptk: esptk's (default: "
        "esptool's when stdout is not a terminal). Env: ESPTK_LOG_FORMAT.")] = None,
    port_filter: Annotated[list[str] | None, typer.Option(
        "--port-filter", help="Only ports matching vid=,pid=,name=,serial= (repeat or comma-join).")] = None,
    override_vddsdio: Annotated[str | None, typer.Option(
        "--override-vddsdio", help="ESP32: set the VDD_SDIO regulator: 1.8V, 1.9V or OFF.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=show_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """esptk: talk to the ROM loader of ESP8266 and ESP32 chips, and build their images."""
    from .esptool_log import choose
    from .options import check_vddsdio, parse_port_filter

    ctx.obj = AppState(chip=chip, port=port, baud=baud, before=before, after=after, no_stub=no_stub,
                       trace=trace, connect_attempts=connect_attempts, json=json_out, debug=debug,
                       quiet=quiet, verbose=verbose, log_format=choose(log_format),
                       port_filter=parse_port_filter(port_filter or []),
                       override_vddsdio=check_vddsdio(override_vddsdio))
    _config(ctx, ctx.obj)


def _config(ctx: Any, st: AppState) -> None:
    from . import config, console

    cfg = config.find()
    config.apply(cfg)  # also undoes what an earlier run in this process applied
    for w in cfg.warnings:
        console.warn(w)
    if cfg.path is None:
        return
    for key in cfg.unknown:
        console.warn(f"{cfg.path}: unknown option '{key}' ignored")
    st.reset_delay = cfg.values.get("reset_delay", st.reset_delay)
    st.open_port_attempts = cfg.values.get("open_port_attempts", st.open_port_attempts)
    st.write_block_attempts = cfg.values.get("write_block_attempts", st.write_block_attempts)
    source = ctx.get_parameter_source("connect_attempts")  # click's or typer's vendored ParameterSource
    if "connect_attempts" in cfg.values and getattr(source, "name", None) == "DEFAULT":
        st.connect_attempts = cfg.values["connect_attempts"]


def state(ctx: Any) -> AppState:
    obj = ctx.find_object(AppState)
    assert obj is not None
    return obj
