"""The image checksum: 0xEF XOR every byte of the segment data."""

from __future__ import annotations

from collections.abc import Iterable

CHECKSUM_SEED = 0xEF


def xor_bytes(data: bytes) -> int:
    """XOR of all bytes of ``data`` (0 for no data).

    Folds one big integer in halves, so the work happens in C even for megabytes.
    """
    n = len(data)
    if n == 0:
        return 0
    if n < 64:
        v = 0
        for b in data:
            v ^= b
        return v
    bits = 8
    while bits < n * 8:
        bits *= 2
    value = int.from_bytes(data, "little")
    while bits > 8:
        bits //= 2
        value = (value >> bits) ^ (value & ((1 << bits) - 1))
    return value


def image_checksum(chunks: Iterable[bytes], seed: int = CHECKSUM_SEED) -> int:
    """The one-byte image checksum over the data of the given segments."""
    value = seed
    for chunk in chunks:
        value ^= xor_bytes(chunk)
    return value & 0xFF


def checksum_padding(pos: int) -> int:
    """Zero bytes to write at file position ``pos`` so that the checksum byte ends a 16-byte block."""
    return 15 - (pos % 16)
