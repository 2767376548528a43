"""UF2 files: 512-byte blocks with a family id and (optionally) an MD5 of each chunk."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x2000
FLAG_MD5 = 0x4000
BLOCK_SIZE = 512
DATA_AREA = 476
MD5_SIZE = 24  #: u32 address, u32 length, 16-byte MD5


def default_chunk_size(md5: bool) -> int:
    return DATA_AREA - MD5_SIZE if md5 else DATA_AREA


def uf2_blocks(addr: int, data: bytes, family_id: int, chunk_size: int, md5: bool = True) -> bytes:
    """The blocks for one input file; block numbers and count are per file."""
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]
    flags = FLAG_FAMILY_ID | (FLAG_MD5 if md5 else 0)
    out = bytearray()
    for n, chunk in enumerate(chunks):
        target = addr + n * chunk_size
        block = struct.pack("<8I", MAGIC_START0, MAGIC_START1, flags, target, len(chunk), n, len(chunks),
                            family_id) + chunk
        if md5:
            block += struct.pack("<II", target, len(chunk)) + hashlib.md5(chunk).digest()
        out += block + b"\x00" * (BLOCK_SIZE - 4 - len(block)) + struct.pack("<I", MAGIC_END)
    return bytes(out)


def write_uf2(pieces: Sequence[tuple[int, bytes]], family_id: int, chunk_size: int | None = None,
              md5: bool = True) -> bytes:
    size = chunk_size or default_chunk_size(md5)
    return b"".join(uf2_blocks(a, d, family_id, size, md5) for a, d in pieces)
