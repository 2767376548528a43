"""The transport interface: how esptk's protocol engine reaches a chip.

A transport plugin registers classes that implement :class:`Transport`. Each class declares the
URL schemes it serves in ``SCHEMES`` (``"serial"``, ``"rfc2217"``, ``"socket"``, ``"sim"`` ...) and
builds itself from a URL with :meth:`Transport.from_url`. A bare path such as ``/dev/ttyUSB0`` or
``COM3`` is treated as the ``serial`` scheme.

Lifecycle: ``from_url`` -> ``open`` -> (read/write/set_baud/set_lines)* -> ``close``.
"""

from __future__ import annotations

import enum
import re
from typing import ClassVar, Protocol, runtime_checkable


class Capability(enum.Flag):
    """What a link can do besides moving bytes."""

    NONE = 0
    CONTROL_LINES = enum.auto()  #: DTR/RTS can reset the chip into the bootloader
    ATOMIC_LINES = enum.auto()  #: DTR and RTS can change in one step (POSIX TIOCMSET)
    SET_BAUD = enum.auto()  #: the host side baud rate can be changed
    USB_JTAG = enum.auto()  #: USB-Serial/JTAG peripheral (not on ESP8266/ESP32)


@runtime_checkable
class Transport(Protocol):
    """A byte pipe to one chip."""

    SCHEMES: ClassVar[tuple[str, ...]]
    url: str
    capabilities: Capability

    @classmethod
    def from_url(cls, url: str, baud: int) -> Transport:
        """Build (not open) a transport for ``url`` at ``baud``."""
        ...

    def open(self) -> None:
        """Open the link; raise PortNotFound / PortBusy / TransportError on failure."""
        ...

    def close(self) -> None: ...

    def read(self, size: int, timeout: float) -> bytes:
        """Return between 1 and ``size`` bytes, or ``b""`` when ``timeout`` seconds pass first."""
        ...

    def write(self, data: bytes) -> None: ...

    def flush_input(self) -> None:
        """Discard bytes received but not yet read."""
        ...

    @property
    def baud(self) -> int: ...

    def set_baud(self, baud: int) -> None: ...

    def set_lines(self, dtr: bool | None = None, rts: bool | None = None) -> None:
        """Set DTR and/or RTS (True = asserted = pin low). ``None`` leaves a line alone."""
        ...


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def url_scheme(url: str) -> str:
    """The scheme of a port URL; bare device paths are ``serial``."""
    m = _SCHEME.match(url)
    return m.group(1).lower() if m else "serial"
