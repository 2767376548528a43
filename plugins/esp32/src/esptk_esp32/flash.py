"""ESP32 ROM specifics for flash operations (PROTOCOL.md sections 2.2 and 6.2.5)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from esptk.errors import EsptkError
from esptk.flashproto import FlashProtocol
from esptk.protocol import op

from .spec import efuse

if TYPE_CHECKING:
    from esptk.loader import Loader

RTC_CALI_REG = 0x3FF5F06C


def efuse_spi_pins(loader: Loader) -> int:
    """The SPI pin map burnt into eFuse (0 = default pins)."""
    w3, w5 = efuse(loader, 3), efuse(loader, 5)
    clk, q, d, cs = (w5 & 0x1F), (w5 >> 5) & 0x1F, (w5 >> 10) & 0x1F, (w5 >> 15) & 0x1F
    hd = (w3 >> 4) & 0x1F
    if not (clk or q or d or cs or hd):
        return 0
    return hd << 24 | cs << 18 | d << 12 | q << 6 | clk


class ESP32RomFlash(FlashProtocol):
    def attach(self, loader: Loader) -> None:
        # the ROM's SPI_ATTACH takes 4 more bytes (is_legacy = 0 and padding)
        loader.command(op.SPI_ATTACH, struct.pack("<II", efuse_spi_pins(loader), 0))

    def baud_value(self, loader: Loader, baud: int) -> int:
        """The ROM computes its divider from the crystal it believes in: correct for the real one."""
        try:
            cali = (loader.read_reg(RTC_CALI_REG) >> 7) & 0x1FFFFFF
            ck8m = efuse(loader, 4) & 0xFF
        except EsptkError:
            return baud
        rom_hz = cali * 15625 * ck8m / 40
        if rom_hz <= 0:
            return baud
        real_hz = 40_000_000 if rom_hz > 33_000_000 else 26_000_000
        return int(baud * rom_hz // real_hz)
