"""Hook implementations of the serial transport plugin."""

from __future__ import annotations

from esptk import hookimpl


@hookimpl
def esptk_register_transports() -> list[type]:
    from .port import SerialTransport

    return [SerialTransport]
