"""State of a FLASH_BEGIN/DEFL_BEGIN or MEM_BEGIN in progress, shared by the ROM and stub models."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from .nor import BLOCK, SECTOR, NorFlash

CHECKSUM_SEED = 0xEF


def checksum(data: bytes) -> int:
    """XOR of all bytes seeded with 0xEF (PROTOCOL.md 1.6)."""
    value = CHECKSUM_SEED
    for b in data:
        value ^= b
    return value


def parse_data(payload: bytes) -> tuple[int, int, bytes] | None:
    """(length word, seq, data) of a *_DATA payload, None if shorter than its 16-byte header."""
    if len(payload) < 16:
        return None
    length, seq = struct.unpack_from("<II", payload)
    return length, seq, payload[16:]


@dataclass
class Session:
    """One BEGIN … END sequence."""

    kind: str  #: flash | defl | mem
    offset: int
    size: int  #: bytes to write (uncompressed)
    num_blocks: int
    block_size: int
    seq: int = 0
    cursor: int = 0  #: next address to write
    remaining: int = 0  #: bytes still expected (stub, mem)
    erase_next: int = 0  #: next sector address the stub's lazy erase handles
    erase_end: int = 0
    inflater: zlib._Decompress | None = field(default=None, repr=False)
    encrypt: bool = False  #: written through the chip's flash-encryption engine
    carry: bytes = b""  #: encrypted writes: bytes of a 32-byte unit still incomplete

    def __post_init__(self) -> None:
        self.cursor = self.offset
        self.remaining = self.size
        self.erase_next = self.offset - self.offset % SECTOR
        end = self.offset + self.size
        self.erase_end = end + (-end % SECTOR)
        if self.kind == "defl":
            self.inflater = zlib.decompressobj()

    def erase_ahead(self, flash: NorFlash, upto: int, blank_read_rate: float = 0.0) -> float:
        """Stub lazy erase: make sure everything below ``upto`` is erased (64 KiB blocks when aligned).

        ``blank_read_rate`` (bytes per second, our stub): a sector or block that already reads as
        erased is read, not erased; one that holds data costs a short read, then the erase."""
        cost = 0.0
        limit = min(upto, self.erase_end)
        while self.erase_next < limit:
            a = self.erase_next
            size = BLOCK if a % BLOCK == 0 and self.erase_end - a >= BLOCK else SECTOR
            self.erase_next += size
            cost += flash.erase_unit(a, size, blank_read_rate)
        return cost
