"""ESP8266 images (PROTOCOL.md sections 9.1-9.5).

* v1: header + RAM segments + checksum; the flash-mapped ("irom0") segment goes to a second, raw
  file flashed at ``addr - 0x40200000``.
* v2: outer header (magic 0xEA), the irom segment (padded to 16 bytes), inner v1 header, RAM
  segments, checksum, then a CRC-32 with the SDK's twist (for the boot_v1.x loader / rboot).
* v3: one v1-style file holding the irom segment too, checksum and a SHA-256; its flash-size field
  uses the ESP32-style codes (experimental layout of the ESP8266 RTOS SDK).
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import TYPE_CHECKING

from esptk.chip import code_name
from esptk.errors import ImageError
from esptk.image.checksum import checksum_padding, image_checksum
from esptk.image.model import ImageFile, ImageInfo, ImageSettings, Segment, SegmentInfo
from esptk.image.segments import insert_elf_sha256, merge_adjacent, pad_to, region_names

if TYPE_CHECKING:
    from esptk.chip import ChipSpec
    from esptk.image.elf import ElfFile

MAGIC = 0xE9
ELF_MACHINE = 0x5E  #: Xtensa
MAGIC_V2 = 0xEA
IROM_BASE = 0x40200000
HEADER = struct.Struct("<BBBBI")
RECORD = struct.Struct("<II")
MAX_SEGMENTS = 16
#: flash-size codes of the v3 layout (same as the ESP32's)
V3_SIZE_CODES = {"1MB": 0x00, "2MB": 0x10, "4MB": 0x20, "8MB": 0x30, "16MB": 0x40}


def is_irom(addr: int) -> bool:
    return IROM_BASE <= addr < IROM_BASE + 0x100000


def sdk_crc32(data: bytes) -> int:
    c = zlib.crc32(data) & 0xFFFFFFFF
    return c ^ 0xFFFFFFFF if c & 0x80000000 else c + 1


def _code(table: dict[str, int], name: str, what: str, chip: ChipSpec, layout: str = "") -> int:
    if name not in table:
        raise ImageError(f"{what} {name} is not valid for {chip.description}{layout}",
                         hint="choose one of " + ", ".join(table))
    return table[name]


def _records(segs: list[Segment], pos: int, sha: tuple[int | None, bytes]) -> tuple[bytes, list[Segment]]:
    """Segment records written from file position ``pos``; the segments as written (with the
    ELF SHA-256 inserted where ``--elf-sha256-offset`` points)."""
    out = bytearray()
    written = []
    for s in segs:
        data = insert_elf_sha256(s.data, pos + len(out) + 8, *sha) if sha[0] is not None else s.data
        out += RECORD.pack(s.addr, len(data)) + data
        written.append(Segment(s.addr, data, s.name))
    return bytes(out), written


def _image(head: bytes, segs: list[Segment], sha: tuple[int | None, bytes]) -> bytes:
    """``head`` (everything before the records), the records and the checksum of their data."""
    body, written = _records(segs, len(head), sha)
    out = head + body
    return out + b"\x00" * checksum_padding(len(out)) + bytes([image_checksum(s.data for s in written)])


def build_image(chip: ChipSpec, elf: ElfFile, settings: ImageSettings) -> list[ImageFile]:
    elf.require_machine(ELF_MACHINE, chip.description)
    if settings.raw_segments:
        return [_build_raw(chip, elf, settings)]
    segs = merge_adjacent(elf.loadable(settings.use_segments), chip.memory_map)
    if len(segs) > MAX_SEGMENTS:
        raise ImageError(f"{elf.name}: {len(segs)} segments after merging, an image holds at most {MAX_SEGMENTS}",
                         hint="check the linker script: too many separate loadable sections")
    irom = [s for s in segs if is_irom(s.addr)]
    ram = [s for s in segs if not is_irom(s.addr)]
    if len(irom) > 1:
        raise ImageError(f"{elf.name}: more than one flash-mapped (irom0) segment",
                         hint="bad ELF: the ESP8266 maps one contiguous irom0 section")
    mode = _code(chip.flash_mode_codes, settings.flash_mode, "flash mode", chip)
    freq = _code(chip.flash_freq_codes, settings.flash_freq, "flash frequency", chip)
    sha = (settings.elf_sha256_offset, elf.sha256 if settings.elf_sha256_offset is not None else b"")
    if settings.version == 3:
        size = _code(V3_SIZE_CODES, settings.flash_size, "flash size", chip, " v3 images")
        return [_build_v3(elf.entry, mode, size | freq, irom, ram, sha)]
    size = _code(chip.flash_size_codes, settings.flash_size, "flash size", chip)
    flags = size | freq
    if settings.version == 2:
        return [_build_v2(elf.entry, mode, flags, irom[0] if irom else None, ram, sha)]
    if settings.version != 1:
        raise ImageError(f"unknown ESP8266 image version {settings.version}", hint="use --version 1, 2 or 3")
    main = _image(HEADER.pack(MAGIC, len(ram), mode, flags, elf.entry), ram, sha)
    files = [ImageFile(main, "0x00000.bin", prefixed=True, flash_offset=0)]
    if irom:
        offset = irom[0].addr - IROM_BASE
        files.append(ImageFile(irom[0].data, f"0x{offset:05x}.bin", prefixed=True, flash_offset=offset))
    return files


def _build_raw(chip: ChipSpec, elf: ElfFile, settings: ImageSettings) -> ImageFile:
    """A v1 image of exactly the given segments (``make-image``)."""
    segs = [Segment(s.addr, pad_to(s.data, 4), s.name) for s in elf.loadable()]
    if len(segs) > MAX_SEGMENTS:
        raise ImageError(f"{len(segs)} segments given, an image holds at most {MAX_SEGMENTS}")
    mode = _code(chip.flash_mode_codes, settings.flash_mode, "flash mode", chip)
    flags = _code(chip.flash_size_codes, settings.flash_size, "flash size", chip)
    flags |= _code(chip.flash_freq_codes, settings.flash_freq, "flash frequency", chip)
    out = _image(HEADER.pack(MAGIC, len(segs), mode, flags, elf.entry), segs, (None, b""))
    return ImageFile(out, "", flash_offset=0)


def _build_v2(entry: int, mode: int, flags: int, irom: Segment | None, ram: list[Segment],
              sha: tuple[int | None, bytes]) -> ImageFile:
    out = HEADER.pack(MAGIC_V2, 4, mode, flags, entry)
    if irom is not None:
        data = pad_to(irom.data, 16)
        if sha[0] is not None:
            data = insert_elf_sha256(data, len(out) + 8, *sha)
        out += RECORD.pack(0, len(data)) + data
    out = _image(out + HEADER.pack(MAGIC, len(ram), mode, flags, entry), ram, sha)
    out += struct.pack("<I", sdk_crc32(out))
    offset = ((irom.addr - IROM_BASE) & ~0xFFF) if irom is not None else 0
    return ImageFile(out, f"-0x{offset:05x}.bin", flash_offset=offset)


def _build_v3(entry: int, mode: int, flags: int, irom: list[Segment], ram: list[Segment],
              sha: tuple[int | None, bytes]) -> ImageFile:
    segs = sorted(irom, key=lambda s: s.addr) + sorted(ram, key=lambda s: s.addr)
    out = _image(HEADER.pack(MAGIC, len(segs), mode, flags, entry), segs, sha)
    return ImageFile(out + hashlib.sha256(out).digest(), ".bin", flash_offset=0)


def read_image(chip: ChipSpec, data: bytes) -> ImageInfo:
    if len(data) < 8:
        raise ImageError(f"{len(data)} bytes are too short for an ESP8266 image")
    magic = data[0]
    if magic not in (MAGIC, MAGIC_V2):
        raise ImageError(f"not an ESP8266 image (first byte 0x{magic:02x}, expected 0xe9 or 0xea)",
                         hint="a v1 image's irom file (0x10000.bin) is raw data; give the 0x00000.bin file")
    warnings: list[str] = []
    segments: list[SegmentInfo] = []
    chunks: list[bytes] = []
    _m, count, mode, flags, entry = HEADER.unpack_from(data, 0)
    pos = 8
    extras: dict[str, object] = {}
    if magic == MAGIC_V2:
        if count != 4:
            warnings.append(f"v2 outer header declares {count} segments, expected 4")
        if pos + 8 <= len(data) and data[pos] != MAGIC:
            addr, length = RECORD.unpack_from(data, pos)
            if pos + 8 + length > len(data):
                raise ImageError("truncated v2 image: the irom segment is cut short")
            segments.append(SegmentInfo(0, addr, length, pos, region_names(addr, chip.memory_map), "irom"))
            pos += 8 + length
        if pos + 8 > len(data) or data[pos] != MAGIC:
            raise ImageError("invalid v2 image: the inner header (0xe9) is missing")
        outer = (mode, flags, entry)
        _m, count, mode, flags, entry = HEADER.unpack_from(data, pos)
        if (mode, flags, entry) != outer:
            warnings.append("outer and inner v2 headers disagree; the inner one is used")
        pos += 8
    if count > MAX_SEGMENTS:
        raise ImageError(f"invalid segment count {count} (at most {MAX_SEGMENTS})", hint="this is not a valid image")
    for _ in range(count):
        if pos + 8 > len(data):
            raise ImageError(f"truncated image: segment {len(segments)} record is missing")
        addr, length = RECORD.unpack_from(data, pos)
        if length >= 0x1000000 or pos + 8 + length > len(data):
            raise ImageError(f"truncated or corrupt image: segment {len(segments)} claims {length} bytes")
        if addr > IROM_BASE or addr < 0x3FFE0000 or length > 65536:
            warnings.append(f"suspicious segment 0x{addr:x}, length {length}")
        segments.append(SegmentInfo(len(segments), addr, length, pos, region_names(addr, chip.memory_map)))
        chunks.append(data[pos + 8:pos + 8 + length])
        pos += 8 + length
    cs_pos = pos + checksum_padding(pos)
    if cs_pos >= len(data):
        raise ImageError("truncated image: the checksum byte is missing")
    if magic == MAGIC_V2 and cs_pos + 5 <= len(data):
        stored, = struct.unpack_from("<I", data, cs_pos + 1)
        calc = sdk_crc32(data[:cs_pos + 1])
        extras["crc32"] = {"stored": stored, "calculated": calc, "valid": stored == calc}
    return ImageInfo(
        chip=chip.name, format=f"esp8266-v{2 if magic == MAGIC_V2 else 1}", version=2 if magic == MAGIC_V2 else 1,
        entry=entry, segment_count=len(segments) if magic == MAGIC_V2 else count, flash_mode=mode,
        flash_size_freq=flags, flash_mode_name=code_name(chip.flash_mode_codes, mode),
        flash_size_name=code_name(chip.flash_size_codes, flags & 0xF0),
        flash_freq_name=code_name(chip.flash_freq_codes, flags & 0x0F),
        segments=segments, checksum_stored=data[cs_pos], checksum_calc=image_checksum(chunks),
        data_length=cs_pos + 1, size=len(data), warnings=warnings, extras=extras,
    )

