"""Plain data types shared by core and the chip plugins' image code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Segment:
    """A piece of memory content: load address and bytes (``name``: the first ELF section's name)."""

    addr: int
    data: bytes
    name: str = ""

    @property
    def end(self) -> int:
        return self.addr + len(self.data)


@dataclass(frozen=True)
class ImageSettings:
    """What ``elf2image`` was asked for. Names are validated against the chip by the caller."""

    flash_mode: str = "qio"
    flash_freq: str = "40m"
    flash_size: str = "1MB"
    version: int = 1  #: ESP8266 image format version (1, 2 or 3); others ignore it
    min_rev: int = 0  #: legacy minimum revision (major only)
    min_rev_full: int = 0  #: major*100 + minor
    max_rev_full: int = 0xFFFF
    secure_pad: int = 0  #: 0 none, 1 secure boot v1, 2 secure boot v2
    elf_sha256_offset: int | None = None
    append_digest: bool = True
    use_segments: bool = False
    pad_to_size: int | None = None
    ram_only_header: bool = False
    #: take the given segments as they are: no merging, one file (``make-image``)
    raw_segments: bool = False


@dataclass
class ImageFile:
    """One output file of ``elf2image``.

    ``prefixed``: the file name is the output prefix (``-o``, default ``<elf>-``) plus ``suffix``.
    Otherwise the name is ``-o`` if given, else the ELF path without extension plus ``suffix``.
    """

    data: bytes
    suffix: str
    prefixed: bool = False
    flash_offset: int | None = None


@dataclass
class SegmentInfo:
    index: int
    addr: int
    length: int
    file_offset: int  #: offset of the 8-byte segment record in the file
    regions: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class ImageInfo:
    """What a chip plugin found in a firmware image (``image-info`` facts, header patching)."""

    chip: str
    format: str  #: short layout name, e.g. "esp8266-v1"
    version: int
    entry: int
    segment_count: int  #: declared in the header
    flash_mode: int
    flash_size_freq: int
    flash_mode_name: str | None
    flash_size_name: str | None
    flash_freq_name: str | None
    segments: list[SegmentInfo]
    checksum_stored: int
    checksum_calc: int
    data_length: int  #: file offset just after the checksum byte
    size: int  #: length of the data given
    extended: dict[str, Any] | None = None  #: extended header fields, if the format has one
    digest_stored: bytes | None = None  #: appended SHA-256, if the header says there is one
    digest_calc: bytes | None = None
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  #: descriptors and other findings

    @property
    def checksum_valid(self) -> bool:
        return self.checksum_stored == self.checksum_calc

    @property
    def digest_valid(self) -> bool | None:
        if self.digest_stored is None:
            return None
        return self.digest_stored == self.digest_calc

    def as_dict(self) -> dict[str, Any]:
        return {
            "chip": self.chip, "format": self.format, "version": self.version, "size": self.size,
            "entry": self.entry, "segment_count": self.segment_count,
            "flash_mode": self.flash_mode_name, "flash_size": self.flash_size_name,
            "flash_freq": self.flash_freq_name, "flash_mode_code": self.flash_mode,
            "flash_size_freq_code": self.flash_size_freq,
            "extended_header": self.extended,
            "segments": [
                {"index": s.index, "length": s.length, "load_addr": s.addr, "file_offset": s.file_offset,
                 "memory_types": s.regions} for s in self.segments
            ],
            "checksum": {"stored": self.checksum_stored, "calculated": self.checksum_calc,
                         "valid": self.checksum_valid},
            "validation_hash": None if self.digest_stored is None else {
                "stored": self.digest_stored.hex(), "calculated": (self.digest_calc or b"").hex(),
                "valid": self.digest_valid},
            "warnings": list(self.warnings),
            **({"extras": self.extras} if self.extras else {}),
        }
