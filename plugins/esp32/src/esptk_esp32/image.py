"""ESP32 application/bootloader image (PROTOCOL.md sections 9.1-9.3, 9.6, 9.8).

Layout: 8-byte header, 16-byte extended header, segments, checksum, optional SHA-256. Flash-mapped
segments are placed so that their data sits at the same offset within a 64 KiB MMU page in the
file as in the address space; the gaps are filled with pieces of RAM segments or with padding
segments.
"""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING, Any

from esptk.chip import code_name
from esptk.errors import ImageError
from esptk.image.checksum import checksum_padding, image_checksum
from esptk.image.model import ImageFile, ImageInfo, ImageSettings, Segment, SegmentInfo
from esptk.image.segments import insert_elf_sha256, merge_adjacent, region_names

if TYPE_CHECKING:
    from esptk.chip import ChipSpec
    from esptk.image.elf import ElfFile

MAGIC = 0xE9
ELF_MACHINE = 0x5E  #: Xtensa
PAGE = 0x10000
HEADER = struct.Struct("<BBBBI")
EXTENDED = struct.Struct("<BBBBHBHH4sB")
RECORD = struct.Struct("<II")
MAX_SEGMENTS = 16
WP_DISABLED = 0xEE
TAIL_MIN = 0x24  #: the ROM bootloader misreads a flash segment ending this close to a page start
SECURE_PAD_RESERVE = {1: 32 + 4 + 64 + 12, 2: 32}
APP_DESC_MAGIC = 0xABCD5432
#: chip ids of the image header (ESP-IDF's esp_chip_id_t), for naming the chip an image is for
IMAGE_CHIP_NAMES = {
    0: "ESP32", 2: "ESP32-S2", 5: "ESP32-C3", 9: "ESP32-S3", 12: "ESP32-C2", 13: "ESP32-C6",
    16: "ESP32-H2", 18: "ESP32-P4", 20: "ESP32-C61", 23: "ESP32-C5",
}


def is_flash_mapped(addr: int) -> bool:
    return 0x400D0000 <= addr < 0x40400000 or 0x3F400000 <= addr < 0x3F800000


def pad_before(pos: int, addr: int) -> int:
    """Length of the segment to write at file position ``pos`` so that the record written after
    it has its data at the same offset within a 64 KiB page as ``addr``; 0 if already aligned."""
    pad = (PAGE - pos % PAGE) + (addr % PAGE) - 8
    if pad in (0, PAGE):
        return 0
    pad -= 8
    return pad + PAGE if pad < 0 else pad


def _code(table: dict[str, int], name: str, what: str, chip: ChipSpec) -> int:
    if name not in table:
        raise ImageError(f"{what} {name} is not valid for {chip.description}",
                         hint="choose one of " + ", ".join(table))
    return table[name]


class _Writer:
    def __init__(self, head: bytes, sha_offset: int | None, elf_sha: bytes | None) -> None:
        self.out = bytearray(head)
        self.chunks: list[bytes] = []
        self.count = 0
        self.sha_offset = sha_offset
        self.elf_sha = elf_sha

    def segment(self, addr: int, data: bytes) -> None:
        if len(data) % 4:  # a filler or split piece before a flash segment whose address is not 4-aligned
            raise ImageError(f"a segment at 0x{addr:08x} would be {len(data)} bytes long, not a multiple of 4",
                             hint="flash-mapped sections must start at 4-byte aligned addresses")
        if self.elf_sha is not None:
            data = insert_elf_sha256(data, len(self.out) + 8, self.sha_offset, self.elf_sha)
        self.out += RECORD.pack(addr, len(data)) + data
        self.chunks.append(data)
        self.count += 1

    def footer(self) -> None:
        self.out += b"\x00" * checksum_padding(len(self.out))
        self.out.append(image_checksum(self.chunks))


def _place_flash_after_footer(w: _Writer, seg: Segment, base: int) -> None:
    """``--ram-only-header``: one padding segment (a whole page of it when already aligned, as
    esptool does), then ``seg``. The alignment counts from the flash offset ``base`` (where the
    bootloader is flashed); the short-tail rule counts from the file start."""
    pad = (seg.addr - (len(w.out) + base) - 16) % PAGE
    if pad:
        w.segment(0, b"\x00" * pad)
    _write_flash(w, seg)


def _write_flash(w: _Writer, seg: Segment) -> None:
    data = seg.data
    tail = (len(w.out) + 8 + len(data)) % PAGE
    if tail < TAIL_MIN:
        data += b"\x00" * (TAIL_MIN - tail)
    w.segment(seg.addr, data)


def _place_flash(w: _Writer, seg: Segment, ram: list[Segment]) -> None:
    """Fill up to the alignment ``seg`` needs (from RAM pieces or padding), then write it."""
    while True:
        pad = pad_before(len(w.out), seg.addr)
        if pad == 0:
            break
        if ram and pad > 8:
            first = ram[0]
            if len(first.data) > pad:
                w.segment(first.addr, first.data[:pad])
                ram[0] = Segment(first.addr + pad, first.data[pad:], first.name)
            else:
                w.segment(first.addr, first.data)
                ram.pop(0)
        else:
            w.segment(0, b"\x00" * pad)
    _write_flash(w, seg)


def _to_front(segs: list[Segment], name: str) -> list[Segment]:
    return sorted(segs, key=lambda s: s.name != name)


def build_image(chip: ChipSpec, elf: ElfFile, settings: ImageSettings) -> list[ImageFile]:
    if settings.raw_segments:
        raise ImageError(f"images of raw segments (make-image) are not supported for {chip.description}",
                         hint="build the image from the ELF file with elf2image")
    elf.require_machine(ELF_MACHINE, chip.description)
    segs = merge_adjacent(elf.loadable(settings.use_segments), chip.memory_map)
    if settings.ram_only_header:  # esptool 5.6 merges again in address order here (seen as a peer)
        segs = merge_adjacent(sorted(segs, key=lambda s: s.addr), chip.memory_map)
    if len(segs) > MAX_SEGMENTS:
        raise ImageError(f"{elf.name}: {len(segs)} segments after merging, an image holds at most {MAX_SEGMENTS}",
                         hint="check the linker script: too many separate loadable sections")
    mode = _code(chip.flash_mode_codes, settings.flash_mode, "flash mode", chip)
    size = _code(chip.flash_size_codes, settings.flash_size, "flash size", chip)
    freq = _code(chip.flash_freq_codes, settings.flash_freq, "flash frequency", chip)
    digest = settings.append_digest and not settings.ram_only_header
    if settings.secure_pad and not settings.append_digest:
        raise ImageError("secure boot padding needs the appended SHA-256",
                         hint="drop --dont-append-digest, or --secure-pad/--secure-pad-v2")
    head = HEADER.pack(MAGIC, 0, mode, size | freq, elf.entry) + EXTENDED.pack(
        WP_DISABLED, 0, 0, 0, chip.image_chip_id or 0, settings.min_rev, settings.min_rev_full,
        settings.max_rev_full, b"\x00" * 4, 1 if digest else 0)

    flash = sorted((s for s in segs if is_flash_mapped(s.addr)), key=lambda s: s.addr)
    ram = sorted((s for s in segs if not is_flash_mapped(s.addr)), key=lambda s: s.addr)
    flash = _to_front(flash, ".flash.appdesc")
    ram = _to_front(ram, ".dram0.bootdesc")
    pages: dict[int, Segment] = {}
    for s in flash:
        other = pages.setdefault(s.addr // PAGE, s)
        if other is not s:
            raise ImageError(f"segments at 0x{other.addr:08x} and 0x{s.addr:08x} are mapped to the same 64 KiB "
                             "flash page", hint="flash-mapped sections must start in different MMU pages")

    sha_offset = settings.elf_sha256_offset
    if sha_offset is None and flash and flash[0].name == ".flash.appdesc":
        sha_offset = 0xB0
    w = _Writer(head, sha_offset, elf.sha256 if sha_offset is not None else None)

    if settings.ram_only_header:
        for r in ram:
            w.segment(r.addr, r.data)
        w.footer()
        ram_count = w.count
        for s in sorted(flash, key=lambda s: s.addr, reverse=True):
            _place_flash_after_footer(w, s, chip.bootloader_offset)
        w.out[1] = ram_count
        return [ImageFile(_pad_to_size(w.out, settings.pad_to_size, digest), ".bin")]

    for s in flash:
        _place_flash(w, s, ram)
    for r in ram:
        w.segment(r.addr, r.data)
    if settings.secure_pad and digest:
        reserve = SECURE_PAD_RESERVE[settings.secure_pad]
        w.segment(0, b"\x00" * ((PAGE - (len(w.out) + 8) % PAGE - 16 - reserve) % PAGE))
    w.footer()
    w.out[1] = w.count & 0xFF
    if digest:
        w.out += hashlib.sha256(w.out).digest()
    return [ImageFile(_pad_to_size(w.out, settings.pad_to_size, digest), ".bin")]


def _pad_to_size(out: bytearray, size: int | None, digest: bool) -> bytes:
    """0xFF fill to a multiple of ``size``. Without a digest, esptool 5.6 writes the fill from
    file offset 2 (just after the segment-count byte) over the image; that output is matched."""
    if not size:
        return bytes(out)
    pos = len(out) if digest else 2
    if pos % size:
        fill = size - pos % size
        out[pos:pos + fill] = b"\xff" * fill
    return bytes(out)


def read_image(chip: ChipSpec, data: bytes) -> ImageInfo:
    if len(data) < 24:
        raise ImageError(f"{len(data)} bytes are too short for an {chip.description} image")
    magic, count, mode, size_freq, entry = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ImageError(f"not an {chip.description} image (first byte 0x{magic:02x}, expected 0x{MAGIC:02x})",
                         hint="give a firmware .bin (bootloader or app), not a partition table or raw data")
    wp, d1, d2, d3, chip_id, min_rev, min_full, max_full, _res, hash_flag = EXTENDED.unpack_from(data, 8)
    if hash_flag not in (0, 1):
        raise ImageError(f"invalid extended header: hash-appended byte is 0x{hash_flag:02x}, must be 0 or 1",
                         hint=f"this is not an {chip.description} image (try --chip)")
    if count > MAX_SEGMENTS:
        raise ImageError(f"invalid segment count {count} (at most {MAX_SEGMENTS})",
                         hint="this is not a valid image")
    warnings: list[str] = []
    if chip.image_chip_id is not None and chip_id != chip.image_chip_id:
        warnings.append(f"image chip id {chip_id} is not {chip.description}'s ({chip.image_chip_id})")
    segments, chunks, pos = _read_segments(chip, data, count, 24, warnings)
    cs_pos = pos + checksum_padding(pos)
    if cs_pos >= len(data):
        raise ImageError("truncated image: the checksum byte is missing")
    data_length = cs_pos + 1
    digest_stored = digest_calc = None
    if hash_flag:
        digest_stored = data[data_length:data_length + 32]
        digest_calc = hashlib.sha256(data[:data_length]).digest()
        if len(digest_stored) < 32:
            warnings.append("the appended SHA-256 is truncated")
    extended: dict[str, Any] = {
        "wp_pin": wp, "wp_pin_disabled": wp == WP_DISABLED,
        "clk_drv": d1 & 0xF, "q_drv": d1 >> 4, "d_drv": d2 & 0xF, "cs0_drv": d2 >> 4,
        "hd_drv": d3 & 0xF, "wp_drv": d3 >> 4,
        "chip_id": chip_id, "chip_name": IMAGE_CHIP_NAMES.get(chip_id),
        "min_rev": min_rev, "min_rev_full": min_full, "max_rev_full": max_full,
        "hash_appended": bool(hash_flag),
    }
    info = ImageInfo(
        chip=chip.name, format=chip.name, version=1, entry=entry, segment_count=count,
        flash_mode=mode, flash_size_freq=size_freq,
        flash_mode_name=code_name(chip.flash_mode_codes, mode),
        flash_size_name=code_name(chip.flash_size_codes, size_freq & 0xF0),
        flash_freq_name=code_name(chip.flash_freq_codes, size_freq & 0x0F),
        segments=segments, checksum_stored=data[cs_pos], checksum_calc=image_checksum(chunks),
        data_length=data_length, size=len(data), extended=extended, digest_stored=digest_stored,
        digest_calc=digest_calc, warnings=warnings,
    )
    info.extras.update(_descriptors(data, segments))
    return info


def _read_segments(chip: ChipSpec, data: bytes, count: int, pos: int,
                   warnings: list[str]) -> tuple[list[SegmentInfo], list[bytes], int]:
    segments: list[SegmentInfo] = []
    chunks: list[bytes] = []
    for i in range(count):
        if pos + 8 > len(data):
            raise ImageError(f"truncated image: segment {i} record is missing")
        addr, length = RECORD.unpack_from(data, pos)
        if length >= 0x1000000:
            raise ImageError(f"segment {i} claims {length} bytes: not a valid image")
        if pos + 8 + length > len(data):
            raise ImageError(f"truncated image: segment {i} needs {length} bytes, the file ends before")
        if length % 4:
            warnings.append(f"segment {i} length {length} is not a multiple of 4")
        segments.append(SegmentInfo(i, addr, length, pos, region_names(addr, chip.memory_map)))
        chunks.append(data[pos + 8:pos + 8 + length])
        pos += 8 + length
    return segments, chunks, pos


def _descriptors(data: bytes, segments: list[SegmentInfo]) -> dict[str, Any]:
    """ESP-IDF application / bootloader descriptors, when present (PROTOCOL.md 9.8)."""
    found: dict[str, Any] = {}
    for s in segments:
        start = s.file_offset + 8
        if "DROM" in s.regions and s.length >= 256 and "app_description" not in found:
            magic, secure_ver = struct.unpack_from("<II", data, start)
            if magic == APP_DESC_MAGIC:
                blob = data[start:start + 256]
                min_blk, max_blk = struct.unpack_from("<HH", blob, 176)
                found["app_description"] = {
                    "project_name": _cstr(blob[48:80]), "app_version": _cstr(blob[16:48]),
                    "compile_time": f"{_cstr(blob[96:112])} {_cstr(blob[80:96])}",
                    "elf_sha256": blob[144:176].hex(), "idf_version": _cstr(blob[112:144]),
                    "min_efuse_blk_rev_full": min_blk, "max_efuse_blk_rev_full": max_blk,
                    "secure_version": secure_ver,
                }
        if "DRAM" in s.regions and s.length >= 80 and data[start] == 0x50 and "bootloader_description" not in found:
            blob = data[start:start + 80]
            version, = struct.unpack_from("<I", blob, 4)
            found["bootloader_description"] = {
                "version": version, "idf_version": _cstr(blob[8:40]), "compile_time": _cstr(blob[40:64]),
            }
    return found


def _cstr(b: bytes) -> str:
    return b.split(b"\x00", 1)[0].decode("utf-8", "replace")
