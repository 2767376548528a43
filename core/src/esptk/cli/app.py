"""The ``esptk`` application: global options, command lookup with esptool's spellings."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from . import checks
from .state import AppState, registry

BEFORE = ("default_reset", "usb_reset", "no_reset", "no_reset_no_sync", "esp32r0")
AFTER = ("hard_reset", "soft_reset", "no_reset", "no_reset_stub", "watchdog_reset")


def _norm_choice(choices: tuple[str, ...], opt: str) -> Any:
    def cb(value: str) -> str:
        v = value.strip().lower().replace("-", "_")
        if v not in choices:
            raise typer.BadParameter(
                f"{value!r} is not one of {', '.join(c.replace('_', '-') for c in choices)}", param_hint=opt
            )
        return v

    return cb


class EsptkGroup(TyperGroup):
    """Accepts ``write_flash`` for ``write-flash`` and finds commands that plugins add."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if EsptkGroup._plugins_loaded:
            return
        EsptkGroup._plugins_loaded = True
        extra = typer.Typer()
        registry().hook.esptk_add_commands(app=extra)
        if extra.registered_commands or extra.registered_groups:
            group = typer.main.get_group(extra)
            for name, cmd in group.commands.items():
                self.commands.setdefault(name, cmd)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        name = cmd_name.replace("_", "-")
        cmd = super().get_command(ctx, name)
        if cmd is None:
            self._load_plugin_commands()
            cmd = super().get_command(ctx, name)
        return cmd

    def list_commands(self, ctx: Any) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd else name), cmd, rest


def _version(value: bool) -> None:
    if value:
        typer.echo(f"esptk {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=EsptkGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help="esptk: talk to the ROM loader of ESP8266 and ESP32 chips, and build their images.",
)


@app.callback()
def root(
    ctx: typer.Context,
    chip: Annotated[str, typer.Option("--chip", "-c", envvar=["ESPTK_CHIP", "ESPTOOL_CHIP"],
                                      help="Chip type (auto detects).")] = "auto",
    port: Annotated[str | None, typer.Option("--port", "-p", envvar=["ESPTK_PORT", "ESPTOOL_PORT"],
                                             help="Serial port, socket://HOST:PORT, rfc2217://... or sim://CHIP.",
                                             )] = None,
    baud: Annotated[int, typer.Option("--baud", "-b", envvar=["ESPTK_BAUD", "ESPTOOL_BAUD"], callback=checks.baud,
                                      help="Baud rate used after connecting.")] = 115200,
    before: Annotated[str, typer.Option(envvar=["ESPTK_BEFORE", "ESPTOOL_BEFORE"],
                                        callback=_norm_choice(BEFORE, "--before"),
                                        help="Reset before: " + ", ".join(BEFORE) + ".")] = "default_reset",
    after: Annotated[str, typer.Option("--after", "-a", envvar=["ESPTK_AFTER", "ESPTOOL_AFTER"],
                                       callback=_norm_choice(AFTER, "--after"),
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
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
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


def _config(ctx: typer.Context, st: AppState) -> None:
    from . import config, console

    cfg = config.find()
    config.apply(cfg)  # also undoes what an earlier run in this process applied
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


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_object(AppState)
    assert obj is not None
    return obj


def _register_commands() -> None:
    from . import plugins_cmd

    for module in (plugins_cmd,):
        module.register(app)
    for name in ("device", "flash", "flash_status", "image", "ports", "secure", "many", "efuse"):  # command modules
        try:
            module = __import__(f"esptk.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != f"esptk.cli.{name}":
                raise
            continue
        module.register(app)


_register_commands()
