"""Hook implementations of the virtual-chip transport plugin."""

from __future__ import annotations

from esptk import hookimpl


@hookimpl
def esptk_register_transports() -> list[type]:
    return []
