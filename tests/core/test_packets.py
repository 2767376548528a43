from __future__ import annotations

import struct

from esptk.protocol import op
from esptk.protocol.packets import (
    SYNC_PAYLOAD,
    checksum,
    data_payload,
    describe_status,
    parse_reply,
    request,
    split_status,
)
from esptk.protocol.slip import encode
from esptk.protocol.timeouts import scaled, stub_defl_block


def test_checksum_is_xor_seeded_with_ef() -> None:
    assert checksum(b"\x01\x02") == 0xEC
    assert checksum(b"") == 0xEF


def test_sync_request_on_the_wire_matches_the_fact_sheet() -> None:
    wire = encode(request(op.SYNC, SYNC_PAYLOAD))
    assert wire == bytes.fromhex("c0 00 08 24 00 00 00 00 00 07 07 12 20") + b"\x55" * 32 + b"\xc0"
    assert len(wire) == 46


def test_data_payload_layout() -> None:
    p = data_payload(b"abcd", 7)
    assert struct.unpack_from("<IIII", p) == (4, 7, 0, 0) and p[16:] == b"abcd"


def test_rom8266_sync_reply_parses() -> None:
    r = parse_reply(bytes.fromhex("01 08 02 00 07 07 12 20 00 00"))
    assert r is not None and r.opcode == op.SYNC and r.value == 0x20120707
    r = split_status(r, 2)
    assert r.status == b"\0\0" and not r.failed


def test_rom32_md5_reply_splits_hex_data_and_four_status_bytes() -> None:
    body = b"0123456789abcdef0123456789abcdef" + b"\0\0\0\0"
    frame = struct.pack("<BBHI", 1, op.SPI_FLASH_MD5, len(body), 0x733) + body
    r = split_status(parse_reply(frame), 4, 32)  # type: ignore[arg-type]
    assert r.data == body[:32] and r.status == b"\0\0\0\0"


def test_error_statuses_read_well() -> None:
    rom = split_status(parse_reply(bytes.fromhex("01 03 04 00 00 00 00 00 01 07 00 00")), 4)  # type: ignore[arg-type]
    assert rom.failed and rom.code == 0x0107
    assert "checksum mismatch" in describe_status(rom, stub=False)
    stub = split_status(parse_reply(bytes.fromhex("01 03 02 00 00 00 00 00 c1 00")), 2)  # type: ignore[arg-type]
    assert "bad data checksum" in describe_status(stub, stub=True)


def test_frames_that_are_not_replies_are_ignored() -> None:
    assert parse_reply(b"OHAI") is None
    assert parse_reply(bytes(10)) is None  # direction 0 is a request


def test_timeouts_scale_per_megabyte_with_floor_and_ceiling() -> None:
    assert scaled(40, 1000) == 3.0
    assert scaled(40, 1_000_000) == 40.0
    assert scaled(40, 100_000_000) == 240.0
    assert stub_defl_block(32768) == scaled(40, 32768 + 2 * 65536)
