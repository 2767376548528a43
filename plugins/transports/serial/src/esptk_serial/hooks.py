"""Hook implementations of the serial transport plugin."""

from __future__ import annotations

from esptk import hookimpl


@hookimpl
def esptk_register_transports() -> list[type]:
    from .port import SerialTransport

    return [SerialTransport]


@hookimpl
def esptk_list_ports() -> list[object]:
    from serial.tools import list_ports

    from esptk.ports import PortInfo

    return [PortInfo(p.device, p.vid, p.pid, p.serial_number, p.manufacturer, p.description)
            for p in list_ports.comports()]
