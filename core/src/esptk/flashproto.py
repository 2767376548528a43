"""How one loader (a chip's ROM, or a stub) does flash operations.

The ``esptk_flash_protocol`` hook returns one of these for a (chip, stub running?) pair. Core's
built-in plugin answers last with the defaults below (derived from the chip's ROM command set); chip
plugins answer first where their loader has quirks (the ESP8266 ROM erase-size bug, the ESP32 ROM's
SPI_ATTACH form and baud correction).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import UnsupportedCommand
from .protocol import op

if TYPE_CHECKING:
    from .chip import ChipSpec
    from .loader import Loader

ROM_WRITE_BLOCK = 0x400
STUB_WRITE_BLOCK = 0x4000
RAM_BLOCK = 0x1800
SECTOR = 0x1000


@dataclass(frozen=True)
class FlashProtocol:
    stub: bool
    status_bytes: int
    write_block_size: int
    compression: bool
    md5: bool
    md5_hex: bool  #: MD5 reply is 32 hex characters (ROM) instead of 16 raw bytes (stub)
    read: str | None  #: "stub" (READ_FLASH with acks), "slow" (READ_FLASH_SLOW) or None
    erase: bool  #: ERASE_FLASH / ERASE_REGION commands exist
    change_baud: bool
    set_params: bool

    @classmethod
    def default_for(cls, chip: ChipSpec, stub: bool) -> FlashProtocol:
        if stub:
            return cls(True, 2, STUB_WRITE_BLOCK, True, True, False, "stub", True, True, True)
        rc = chip.rom_commands
        return cls(
            stub=False,
            status_bytes=chip.rom_status_bytes,
            write_block_size=ROM_WRITE_BLOCK,
            compression=op.FLASH_DEFL_BEGIN in rc,
            md5=op.SPI_FLASH_MD5 in rc,
            md5_hex=True,
            read="slow" if op.READ_FLASH_SLOW in rc else None,
            erase=False,
            change_baud=op.CHANGE_BAUDRATE in rc,
            set_params=op.SPI_SET_PARAMS in rc,
        )

    # --- behaviour a plugin may override ----------------------------------------------------
    def erase_size(self, offset: int, size: int) -> int:
        """Word 0 of FLASH_BEGIN for writing ``size`` bytes at ``offset``."""
        return size

    def erased_span(self, offset: int, size: int) -> tuple[int, int]:
        """(start, length) of the flash this loader erases to write ``size`` bytes at ``offset``:
        whole sectors. A plugin whose loader erases more says so here."""
        start = offset - offset % SECTOR
        return start, -(-(offset + size - start) // SECTOR) * SECTOR if size else 0

    def defl_begin_size(self, size: int) -> int:
        """Word 0 of FLASH_DEFL_BEGIN for ``size`` uncompressed bytes."""
        if self.stub:
            return size
        return math.ceil(size / self.write_block_size) * self.write_block_size

    def attach(self, loader: Loader) -> None:
        """Make the SPI flash usable (SPI_ATTACH or an equivalent). Default: nothing."""

    def baud_value(self, loader: Loader, baud: int) -> int:
        """The value to send in CHANGE_BAUDRATE so that the chip ends up at ``baud``."""
        return baud

    def soft_reset(self, loader: Loader) -> None:
        """Leave the loader and run the application from flash (``--after soft_reset``, ``run``)."""
        if self.stub:
            raise UnsupportedCommand("this chip's stub cannot soft-reset", hint="use --after hard_reset")
        loader.command(op.FLASH_BEGIN, struct.pack("<IIII", 0, 0, self.write_block_size, 0))
        loader.command(op.FLASH_END, struct.pack("<I", 1))
