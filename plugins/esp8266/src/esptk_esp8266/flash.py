"""ESP8266 ROM quirks for flash operations (PROTOCOL.md sections 2.5 and 2.6)."""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

from esptk.flashproto import ROM_WRITE_BLOCK, SECTOR, FlashProtocol
from esptk.protocol import op
from esptk.protocol.packets import request

if TYPE_CHECKING:
    from esptk.loader import Loader

SECTORS_PER_BLOCK = 16


def rom_erase_size(offset: int, size: int) -> int:
    """The FLASH_BEGIN erase word that makes the ESP8266 ROM erase exactly what is needed.

    The ROM erases the sectors up to the next 64 KiB boundary and then the requested count on
    top; sending a smaller count compensates (PROTOCOL.md 2.5).
    """
    n = math.ceil(size / SECTOR)
    start = offset // SECTOR
    head = min(SECTORS_PER_BLOCK - (start % SECTORS_PER_BLOCK), n)
    if n < 2 * head:
        return (n + 1) // 2 * SECTOR
    return (n - head) * SECTOR


def rom_erased_sectors(offset: int, erase_word: int) -> int:
    """How many sectors from ``offset``'s sector the ROM erases for a FLASH_BEGIN erase word: the
    sectors up to the next 64 KiB boundary, then the requested count on top (PROTOCOL.md 2.5)."""
    m = math.ceil(erase_word / SECTOR)
    start = offset // SECTOR
    return m + min(SECTORS_PER_BLOCK - start % SECTORS_PER_BLOCK, m) if m else 0


class ESP8266RomFlash(FlashProtocol):
    def erase_size(self, offset: int, size: int) -> int:
        return rom_erase_size(offset, size)

    def erased_span(self, offset: int, size: int) -> tuple[int, int]:
        # an odd number of sectors that ends before the next 64 KiB boundary cannot be erased
        # exactly: the ROM erases twice what it is asked for there, so one sector more goes
        start = offset - offset % SECTOR
        return start, rom_erased_sectors(offset, rom_erase_size(offset, size)) * SECTOR

    def attach(self, loader: Loader) -> None:
        # the ROM has no SPI_ATTACH: an empty FLASH_BEGIN attaches the flash
        loader.command(op.FLASH_BEGIN, struct.pack("<IIII", 0, 0, ROM_WRITE_BLOCK, 0))


class ESP8266StubFlash(FlashProtocol):
    def soft_reset(self, loader: Loader) -> None:
        # the stub returns into the ROM's boot-from-flash path; no reply comes
        loader.send_frame(request(op.RUN_USER_CODE))
