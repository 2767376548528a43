"""merge-bin: several files at flash addresses into one raw, Intel HEX or UF2 file (PROTOCOL.md 10)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .files import read_input
from .ihex import HexError, looks_like_hex, read_hex

if TYPE_CHECKING:
    from ..chip import ChipSpec

SECTOR = 0x1000


@dataclass
class Piece:
    addr: int
    data: bytes
    source: str

    @property
    def end(self) -> int:
        return self.addr + len(self.data)


def load_pieces(pairs: Sequence[tuple[int, str]]) -> list[Piece]:
    """Read ``(address, path)`` pairs. An Intel HEX file (leading ':' and valid) yields one piece
    per contiguous run, at the addresses stored in it; other files are placed at their address."""
    pieces: list[Piece] = []
    for addr, path in pairs:
        data = read_input(path)
        name = os.path.basename(path)
        if looks_like_hex(data):
            try:
                runs = read_hex(data)
            except HexError:
                runs = None
            if runs is not None:
                pieces.extend(Piece(a, d, f"{name}@0x{a:x}") for a, d in runs)
                continue
        pieces.append(Piece(addr, data, name))
    return sorted(pieces, key=lambda p: p.addr)


def check_extent(pieces: Sequence[Piece], top: int, chip: str) -> None:
    """Refuse pieces that end past ``top``, the largest flash the chip can have (a raw output
    would otherwise be gigabytes of 0xFF)."""
    for p in pieces:
        if p.end > top:
            raise UsageError(f"{p.source} (0x{p.addr:x}-0x{p.end - 1:x}) ends past 0x{top:x}, the largest {chip} flash",
                             hint="check the address")


def check_overlaps(pieces: Sequence[Piece]) -> None:
    """Refuse pieces whose sector-rounded ranges meet (they would erase each other when flashed)."""
    for prev, cur in zip(pieces, pieces[1:], strict=False):
        prev_end = -(-prev.end // SECTOR) * SECTOR
        if prev_end > (cur.addr // SECTOR) * SECTOR:
            raise UsageError(
                f"{prev.source} (0x{prev.addr:x}-0x{prev.end - 1:x}) overlaps {cur.source} at 0x{cur.addr:x}",
                hint="each file needs its own 4 KiB flash sectors: check the addresses")


def patch_pieces(registry: Any, chip: ChipSpec, pieces: list[Piece], flash_mode: str | None,
                 flash_freq: str | None, flash_size: str | None) -> list[str]:
    """Apply the bootloader header patch (see :mod:`esptk.image.patch`) in place; return warnings."""
    from .patch import patch_flash_params

    warnings: list[str] = []
    for p in pieces:
        p.data, w = patch_flash_params(registry, chip, p.data, p.addr, flash_mode, flash_freq, flash_size)
        warnings += w
    return warnings


def merge_raw(pieces: Sequence[Piece], target_offset: int = 0, pad_to_size: int | None = None) -> bytes:
    """One image to flash at ``target_offset``: gaps and the optional tail up to ``pad_to_size``
    (an absolute flash size) are 0xFF."""
    if pieces and pieces[0].addr < target_offset:
        raise UsageError(f"{pieces[0].source} at 0x{pieces[0].addr:x} lies below --target-offset "
                         f"0x{target_offset:x}", hint="lower --target-offset or drop that file")
    out = bytearray()
    for p in pieces:
        start = p.addr - target_offset
        out += b"\xff" * (start - len(out))
        out[start:start + len(p.data)] = p.data
    if pad_to_size is not None and pad_to_size - target_offset > len(out):
        out += b"\xff" * (pad_to_size - target_offset - len(out))
    return bytes(out)


def merge_hex(pieces: Sequence[Piece]) -> bytes:
    from .ihex import write_hex

    return write_hex([(p.addr, p.data) for p in pieces if p.data])


def merge_uf2(pieces: Sequence[Piece], family_id: int, chunk_size: int | None, md5: bool) -> bytes:
    from .uf2 import write_uf2

    return write_uf2([(p.addr, p.data) for p in pieces], family_id, chunk_size, md5)
