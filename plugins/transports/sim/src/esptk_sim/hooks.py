"""Hook implementations of the virtual-chip transport plugin."""

from __future__ import annotations

from typing import Any

from esptk import hookimpl


@hookimpl
def esptk_register_transports() -> list[type]:
    from .transport import SimTransport

    return [SimTransport]


@hookimpl
def esptk_add_commands(app: Any) -> None:
    from .cli import add_commands

    add_commands(app)
