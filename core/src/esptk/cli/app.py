"""The ``esptk`` application: global options, command lookup with esptool's spellings."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from . import root as root_mod
from .state import registry


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


app = typer.Typer(
    cls=EsptkGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help="esptk: talk to the ROM loader of ESP8266 and ESP32 chips, and build their images.",
)


root_mod.typer = typer  # its annotations name typer (string annotations, evaluated by typer)
app.callback()(root_mod.root)
state = root_mod.state


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
