"""A NOR flash chip: erase sets 0xFF in whole sectors/blocks, programming can only clear bits."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from .timing import CALIBRATED_PAGE_PROGRAM

SECTOR = 0x1000
BLOCK = 0x10000
PAGE = 0x100
#: the piece our stub programs at once (the SPI controller's 16 data words, stubs/src/hal.h)
PIECE = 0x40


class FlashRangeError(ValueError):
    """An access beyond the end of the flash chip."""


@dataclass(frozen=True)
class NorTiming:
    """Seconds per operation: typical 4 MiB SPI NOR (STUB.md §8); the page time is calibrated
    against a real board's figure (see :mod:`.timing`)."""

    sector_erase: float = 0.045
    block_erase: float = 0.150
    page_program: float = CALIBRATED_PAGE_PROGRAM


class NorFlash:
    def __init__(self, size: int, content: bytes | None = None) -> None:
        self.size = size
        self.data = bytearray(b"\xff" * size)
        if content:
            self.data[: min(size, len(content))] = content[:size]
        self.timing = NorTiming()
        self.dirty = False
        #: worn cells: address -> bits that stay 1 when programmed (sim option ``stuck_bits``)
        self.stuck: dict[int, int] = {}

    def _check(self, addr: int, length: int) -> None:
        if addr < 0 or length < 0 or addr + length > self.size:
            raise FlashRangeError(f"flash access 0x{addr:x}+0x{length:x} beyond the 0x{self.size:x}-byte chip")

    def read(self, addr: int, length: int) -> bytes:
        self._check(addr, length)
        return bytes(self.data[addr: addr + length])

    def erased_prefix(self, addr: int, length: int) -> int:
        """How many bytes from ``addr`` (at most ``length``) read as erased (0xFF)."""
        self._check(addr, length)
        return length - len(self.data[addr: addr + length].lstrip(b"\xff"))

    def erase_sector(self, addr: int) -> float:
        start = addr - addr % SECTOR
        self._check(start, SECTOR)
        self.data[start: start + SECTOR] = b"\xff" * SECTOR
        self.dirty = True
        return self.timing.sector_erase

    def erase_block(self, addr: int) -> float:
        start = addr - addr % BLOCK
        self._check(start, BLOCK)
        self.data[start: start + BLOCK] = b"\xff" * BLOCK
        self.dirty = True
        return self.timing.block_erase

    def erase_unit(self, addr: int, size: int, blank_read_rate: float = 0.0) -> float:
        """Erase one sector or block (``size``); with ``blank_read_rate`` (bytes per second: our stub)
        first read it and leave it alone when it is blank, reading a unit that holds data only up to
        its first used 64-byte piece. Returns the time it takes."""
        cost = 0.0
        if blank_read_rate:
            erased = self.erased_prefix(addr, size)
            if erased == size:
                return size / blank_read_rate
            cost = (erased - erased % PIECE + PIECE) / blank_read_rate
        return cost + (self.erase_block(addr) if size == BLOCK else self.erase_sector(addr))

    def erase_range(self, start: int, length: int, blank_read_rate: float = 0.0) -> float:
        """Erase whole sectors: sectors up to a 64 KiB boundary, 64 KiB blocks, then sectors (each
        as :meth:`erase_unit`). ``start`` and ``length`` must be sector aligned. Returns the time."""
        if start % SECTOR or length % SECTOR:
            raise ValueError("erase range must be sector aligned")
        self._check(start, length)
        cost = 0.0
        addr, end = start, start + length
        while addr < end:
            size = BLOCK if addr % BLOCK == 0 and end - addr >= BLOCK else SECTOR
            cost += self.erase_unit(addr, size, blank_read_rate)
            addr += size
        return cost

    def erase_all(self) -> float:
        return self.erase_range(0, self.size)

    def program(self, addr: int, data: bytes, skip_ones: bool = False) -> float:
        """Program ``data`` at ``addr``: each bit can only go from 1 to 0 (result = old AND new).

        Returns the time: a page program for each 256-byte page touched; with ``skip_ones`` (our
        stub: it programs 64-byte pieces and leaves out those that are all 0xFF) a quarter of that
        for each 64-byte piece that holds a bit to clear, the same cost per byte.
        """
        self._check(addr, len(data))
        if skip_ones:
            cost, end = 0.0, addr + len(data)
            a = addr
            while a < end:
                n = min(PIECE - a % PIECE, end - a)
                piece = data[a - addr: a - addr + n]
                if piece.count(0xFF) != n:
                    self.program(a, piece)
                    cost += self.timing.page_program * PIECE / PAGE
                a += n
            return cost
        old = int.from_bytes(self.data[addr: addr + len(data)], "little")
        new = int.from_bytes(data, "little")
        self.data[addr: addr + len(data)] = (old & new).to_bytes(len(data), "little")
        for a, bits in self.stuck.items():
            if addr <= a < addr + len(data):
                self.data[a] |= bits
        self.dirty = True
        first, last = addr // PAGE, (addr + len(data) - 1) // PAGE
        return (last - first + 1) * self.timing.page_program if data else 0.0

    # --- persistence ------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str, size: int) -> NorFlash:
        """Flash content from ``path`` (missing file: an erased chip)."""
        try:
            with open(path, "rb") as f:
                content = f.read(size)
        except FileNotFoundError:
            content = b""
        return cls(size, content)

    def save(self, path: str) -> None:
        """Write the content to ``path`` atomically (temp file + rename)."""
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".flash-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self.data)
            try:
                mode = os.stat(path).st_mode & 0o777
            except FileNotFoundError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.dirty = False
