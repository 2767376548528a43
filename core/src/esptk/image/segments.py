"""Segment helpers: 4-byte padding, memory-region names and the merge of contiguous segments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .model import Segment

if TYPE_CHECKING:
    from ..chip import MemoryRegion


def pad_to(data: bytes, align: int, fill: bytes = b"\x00") -> bytes:
    """``data`` extended with ``fill`` to a multiple of ``align`` bytes."""
    rem = len(data) % align
    return data if rem == 0 else data + fill * (align - rem)


def region_names(addr: int, memory_map: Iterable[MemoryRegion]) -> list[str]:
    """Names of all regions containing ``addr`` (regions may overlap), in map order."""
    return [r.name for r in memory_map if r.start <= addr < r.end]


def merge_adjacent(segments: Sequence[Segment], memory_map: Sequence[MemoryRegion]) -> list[Segment]:
    """Join each segment to the one before it when it starts exactly where that one ends and
    both lie in the same memory regions. Order is kept; gaps are never filled."""
    out: list[Segment] = []
    kinds: list[list[str]] = []
    for seg in segments:
        kind = region_names(seg.addr, memory_map)
        if out and out[-1].end == seg.addr and kinds[-1] == kind:
            prev = out[-1]
            out[-1] = Segment(prev.addr, prev.data + seg.data, prev.name)
            continue
        out.append(Segment(seg.addr, seg.data, seg.name))
        kinds.append(kind)
    return out


def insert_elf_sha256(data: bytes, data_pos: int, offset: int | None, digest: bytes) -> bytes:
    """Write ``digest`` into segment ``data`` (which sits at file position ``data_pos``) if the
    image file offset ``offset`` falls inside it; the bytes there must be zero."""
    if offset is None or not data_pos <= offset < data_pos + len(data):
        return data
    at = offset - data_pos
    if any(data[at:at + len(digest)]):
        from ..errors import ImageError

        raise ImageError(f"the image bytes at the ELF SHA-256 offset 0x{offset:x} are not all zero",
                         hint="check --elf-sha256-offset: it must point at an empty app_elf_sha256 field")
    return data[:at] + digest + data[at + len(digest):]
