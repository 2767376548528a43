"""``sim://CHIP[?option=value&...]``: a virtual chip inside this process.

DTR/RTS act as on a board with the usual auto-reset circuit (RTS alone holds EN low, DTR alone
pulls GPIO0 low), so the classic reset sequence really restarts the chip into its ROM loader and
the boot log appears. The host and the chip each have a baud rate: after a CHANGE_BAUDRATE the
host must switch too, or it reads garbage.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from esptk.errors import TransportError
from esptk.transport import Capability

if TYPE_CHECKING:
    from .engine import VirtualChip

IDLE_STEP = 0.05  #: longest sleep while waiting for output that has no scheduled time


class SimTransport:
    SCHEMES: ClassVar[tuple[str, ...]] = ("sim",)

    def __init__(self, url: str, baud: int) -> None:
        self.url = url
        self._baud = baud
        from .options import parse_url  # the chip model loads only when a sim:// URL is used

        self.chip_name, self.options = parse_url(url)
        self.capabilities = Capability.CONTROL_LINES | Capability.ATOMIC_LINES | Capability.SET_BAUD
        self.chip: VirtualChip | None = None
        self._buf = bytearray()
        self._t0 = time.monotonic()

    @classmethod
    def from_url(cls, url: str, baud: int) -> SimTransport:
        return cls(url, baud)

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _vc(self) -> VirtualChip:
        if self.chip is None:
            raise TransportError(f"{self.url} is not open")
        return self.chip

    def open(self) -> None:
        from .factory import make_chip

        vc = make_chip(self.chip_name, self.options)
        vc.strict_baud = True
        vc.set_host_baud(self._baud)
        self._t0 = time.monotonic()
        vc.power_on(self._now())
        self.chip = vc

    def close(self) -> None:
        if self.chip is not None:
            from .factory import save_flash

            save_flash(self.chip)
            self.chip = None

    def read(self, size: int, timeout: float) -> bytes:
        vc = self._vc()
        deadline = self._now() + timeout
        while True:
            now = self._now()
            self._buf += vc.poll(now)
            if self._buf:
                out = bytes(self._buf[:size])
                del self._buf[:size]
                return out
            if now >= deadline:
                return b""
            nxt = vc.next_output()
            wake = min(deadline, nxt if nxt is not None else now + IDLE_STEP)
            time.sleep(max(0.0, wake - now))

    def write(self, data: bytes) -> None:
        self._vc().receive(bytes(data), self._now())

    def flush_input(self) -> None:
        self._vc().poll(self._now())
        self._buf.clear()

    @property
    def baud(self) -> int:
        return self._baud

    def set_baud(self, baud: int) -> None:
        self._baud = baud
        if self.chip is not None:
            self.chip.set_host_baud(baud)

    def set_lines(self, dtr: bool | None = None, rts: bool | None = None) -> None:
        self._vc().set_lines(dtr, rts, self._now())
