"""Generic image helpers: checksum, segment merge, Intel HEX, UF2, raw merge."""

from __future__ import annotations

import hashlib
import struct
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esptk.chip import MemoryRegion
from esptk.errors import UsageError
from esptk.image.checksum import checksum_padding, image_checksum, xor_bytes
from esptk.image.ihex import HexError, read_hex, write_hex
from esptk.image.merge import Piece, check_overlaps, merge_raw
from esptk.image.model import Segment
from esptk.image.segments import merge_adjacent, pad_to, region_names
from esptk.image.uf2 import write_uf2


@given(st.binary(max_size=5000))
def test_xor_bytes_equals_bytewise_xor(data: bytes) -> None:
    assert xor_bytes(data) == reduce(lambda a, b: a ^ b, data, 0)


def test_image_checksum_starts_from_0xef() -> None:
    assert image_checksum([]) == 0xEF
    assert image_checksum([b"\x01\x02", b"\x04"]) == 0xEF ^ 0x07


@given(st.integers(min_value=0, max_value=1 << 20))
def test_checksum_byte_ends_a_16_byte_block(pos: int) -> None:
    assert (pos + checksum_padding(pos)) % 16 == 15


MAP = (MemoryRegion("DRAM", 0x1000, 0x2000), MemoryRegion("IRAM", 0x2000, 0x3000),
       MemoryRegion("BOTH", 0x1000, 0x3000))


def test_region_names_lists_every_overlapping_region() -> None:
    assert region_names(0x1800, MAP) == ["DRAM", "BOTH"]
    assert region_names(0x5000, MAP) == []


def test_merge_joins_only_contiguous_segments_of_the_same_region() -> None:
    segs = [Segment(0x1000, b"a" * 4, ".a"), Segment(0x1004, b"b" * 4, ".b"),  # contiguous: joined
            Segment(0x100C, b"c" * 4, ".c"),                                  # gap: separate
            Segment(0x1FFC, b"d" * 4, ".d"), Segment(0x2000, b"e" * 4, ".e")]  # region change: separate
    out = merge_adjacent(segs, MAP)
    assert [(s.addr, s.data, s.name) for s in out] == [
        (0x1000, b"aaaabbbb", ".a"), (0x100C, b"cccc", ".c"), (0x1FFC, b"dddd", ".d"), (0x2000, b"eeee", ".e")]


def test_merge_keeps_order() -> None:
    segs = [Segment(0x2000, b"x" * 4), Segment(0x1000, b"y" * 4)]
    assert [s.addr for s in merge_adjacent(segs, MAP)] == [0x2000, 0x1000]


def test_pad_to() -> None:
    assert pad_to(b"abc", 4) == b"abc\x00"
    assert pad_to(b"abcd", 4) == b"abcd"
    assert pad_to(b"a", 4, b"\xff") == b"a\xff\xff\xff"


pieces_strategy = st.lists(
    st.tuples(st.integers(min_value=0, max_value=0x3FFFF), st.binary(min_size=1, max_size=300)),
    max_size=5)


def _flatten(pieces: list[tuple[int, bytes]]) -> dict[int, int]:
    mem: dict[int, int] = {}
    for addr, data in pieces:
        for i, b in enumerate(data):
            mem[addr + i] = b
    return mem


@given(pieces_strategy)
def test_intel_hex_round_trip(raw: list[tuple[int, bytes]]) -> None:
    pieces: list[tuple[int, bytes]] = []
    end = -1
    for addr, data in sorted(raw):  # make them non-overlapping
        if addr > end:
            pieces.append((addr, data))
            end = addr + len(data)
    back = read_hex(write_hex(pieces))
    assert _flatten(back) == _flatten(pieces)
    # pieces come back split exactly at the gaps
    assert all(a + len(d) < b for (a, d), (b, _) in zip(back, back[1:], strict=False))


def test_intel_hex_layout() -> None:
    text = write_hex([(0x1000, bytes(range(20)))]).decode()
    assert text.splitlines() == [
        ":10100000000102030405060708090A0B0C0D0E0F68", ":041010001011121396", ":00000001FF"]
    above = write_hex([(0xFFF8, bytes(16))]).decode().splitlines()
    assert above[0] == ":020000040000FA"  # extended address records once data passes 64 KiB
    assert above[1].startswith(":08FFF800")  # records stop at the 64 KiB boundary
    assert above[2] == ":020000040001F9"


def test_intel_hex_rejects_bad_checksum() -> None:
    with pytest.raises(HexError):
        read_hex(b":10100000000102030405060708090A0B0C0D0E0F00\n:00000001FF\n")


def test_uf2_blocks() -> None:
    data = bytes(range(256)) * 2  # 512 bytes -> 452 + 60 with MD5
    out = write_uf2([(0x1000, data), (0x8000, b"\xaa")], family_id=0x1C5F21B0)
    assert len(out) == 3 * 512
    blocks = [out[i:i + 512] for i in range(0, len(out), 512)]
    hdr = [struct.unpack_from("<8I", b) for b in blocks]
    assert [h[3:7] for h in hdr] == [(0x1000, 452, 0, 2), (0x1000 + 452, 60, 1, 2), (0x8000, 1, 0, 1)]
    for b, h in zip(blocks, hdr, strict=True):
        assert h[:3] == (0x0A324655, 0x9E5D5157, 0x6000) and h[7] == 0x1C5F21B0
        assert struct.unpack_from("<I", b, 508)[0] == 0x0AB16F30
        size = h[4]
        payload = b[32:32 + size]
        addr, length = struct.unpack_from("<II", b, 32 + size)
        assert (addr, length) == (h[3], size)
        assert b[40 + size:56 + size] == hashlib.md5(payload).digest()
        assert not any(b[56 + size:508])
    plain = write_uf2([(0, bytes(476))], family_id=1, md5=False)
    assert len(plain) == 512 and struct.unpack_from("<I", plain, 8)[0] == 0x2000


def test_merge_raw_fills_gaps_and_pads() -> None:
    pieces = [Piece(0x1000, b"\x01" * 4, "a"), Piece(0x1010, b"\x02", "b")]
    out = merge_raw(pieces, target_offset=0x1000, pad_to_size=0x1020)
    assert out == b"\x01" * 4 + b"\xff" * 12 + b"\x02" + b"\xff" * 15


def test_merge_raw_refuses_data_below_target_offset() -> None:
    with pytest.raises(UsageError):
        merge_raw([Piece(0x1000, b"x", "a")], target_offset=0x2000)


def test_overlap_is_judged_by_4k_sectors() -> None:
    check_overlaps([Piece(0, bytes(1024), "a"), Piece(0x1000, bytes(10), "b")])
    with pytest.raises(UsageError, match="overlaps"):
        check_overlaps([Piece(0, bytes(1024), "a"), Piece(0x400, bytes(10), "b")])
