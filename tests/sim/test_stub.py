"""The stub model (PROTOCOL.md section 7): OHAI, status layout, lazy erase, deferred errors, READ_FLASH."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esptk.protocol import op, slip

from .conftest import Host, make


@pytest.fixture(params=["esp8266", "esp32"])
def stub(request: pytest.FixtureRequest) -> Host:
    h = make(request.param)
    after = h.start_stub()
    assert after.endswith(b"\xc0OHAI\xc0")
    return h


def test_running_a_ram_program_greets_with_ohai_after_the_mem_end_reply() -> None:
    h = make("esp32")
    wire = h.start_stub()
    frames = h.frames(wire)
    assert frames[0][:2] == b"\x01\x06" and frames[1] == b"OHAI"
    assert wire.endswith(bytes.fromhex("c0 4f 48 41 49 c0"))


def test_stub_sync_values_are_zero_and_status_is_two_bytes(stub: Host) -> None:
    replies = stub.sync()
    assert len(replies) == 8 and all(r.value == 0 and r.data == b"\x00\x00" for r in replies)


def test_stub_unknown_opcode_is_invalid_command(stub: Host) -> None:
    assert stub.one(0x99).data == b"\xc3\x00"
    assert stub.one(op.READ_FLASH_SLOW, bytes(8)).data == b"\xc3\x00"


@pytest.mark.parametrize("size", [16, 20])
def test_stub_flash_begin_accepts_16_or_20_bytes_and_erases_lazily(stub: Host, size: int) -> None:
    vc = stub.vc
    vc.flash.data[0x10000:0x30000] = bytes(0x20000)
    payload = struct.pack("<IIIII", 0x5000, 2, 0x4000, 0x10000, 0)[:size]
    assert stub.one(op.FLASH_BEGIN, payload).data == b"\x00\x00"
    assert vc.flash.data[0x10000] == 0  # nothing erased yet
    assert stub.data_block(op.FLASH_DATA, b"\xa5" * 0x4000, 0).data == b"\x00\x00"
    assert vc.flash.data[0x10000:0x14000] == b"\xa5" * 0x4000
    assert vc.flash.data[0x14000] == 0  # the next sector is erased only when needed
    assert stub.data_block(op.FLASH_DATA, b"\x5a" * 0x1000 + b"\xff" * 0x3000, 1).data == b"\x00\x00"
    assert vc.flash.data[0x14000:0x15000] == b"\x5a" * 0x1000 and vc.flash.data[0x15000] == 0  # excess dropped
    assert stub.one(op.FLASH_END, struct.pack("<I", 1)).data == b"\x00\x00"


def test_stub_checks_and_codes(stub: Host) -> None:
    assert stub.data_block(op.FLASH_DATA, b"x" * 16, 0).data == b"\xc6\x00"  # not in flash mode
    assert stub.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x100, 1, 0x8000, 0)).data == b"\xc2\x00"
    stub.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x100, 1, 0x4000, 0))
    assert stub.data_block(op.FLASH_DATA, b"x" * 16, 0, chk=0).data == b"\xc1\x00"
    assert stub.one(op.FLASH_END, struct.pack("<I", 1)).data == b"\xc0\x00"  # bytes still missing
    assert stub.one(op.ERASE_REGION, struct.pack("<II", 0x100, 0x1000)).data == b"\x32\x00"
    assert stub.one(op.ERASE_REGION, struct.pack("<II", 0x1000, 0x100)).data == b"\x33\x00"
    assert stub.one(op.SPI_ATTACH, bytes(8)).data == b"\xc0\x00"  # the stub takes 4 bytes
    assert stub.one(op.SPI_ATTACH, bytes(4)).data == b"\x00\x00"


def test_inflate_error_is_deferred_to_the_next_command_which_is_skipped(stub: Host) -> None:
    vc = stub.vc
    vc.start_stub(stub.now, "esptool-stub")  # esptool's v2 stub does this (PROTOCOL.md 7.0); ours: contract A
    stub.wait()
    stub.one(op.FLASH_DEFL_BEGIN, struct.pack("<IIII", 0x1000, 1, 0x4000, 0x20000))
    assert stub.data_block(op.FLASH_DEFL_DATA, b"\x00garbage" * 8, 0).data == b"\x00\x00"  # acked first
    r = stub.one(op.WRITE_REG, struct.pack("<IIII", 0x3FFE8000, 0x1234, 0xFFFFFFFF, 0))
    assert r.data == b"\xc7\x00"
    assert vc.mem.read_word(0x3FFE8000) != 0x1234  # that command did not run
    assert stub.write_reg(0x3FFE8000, 0x1234).data == b"\x00\x00"


def test_compressed_write_across_blocks_and_raw_md5(stub: Host) -> None:
    data = bytes(range(256)) * 256 + b"\x01" * 3000
    z = zlib.compress(data, 9)
    blocks = [z[i:i + 0x4000] for i in range(0, len(z), 0x4000)]
    stub.one(op.FLASH_DEFL_BEGIN, struct.pack("<IIII", len(data), len(blocks), 0x4000, 0x40000))
    for seq, b in enumerate(blocks):
        assert stub.data_block(op.FLASH_DEFL_DATA, b, seq).data == b"\x00\x00"
    assert stub.one(op.FLASH_DEFL_END, struct.pack("<I", 1)).data == b"\x00\x00"
    r = stub.one(op.SPI_FLASH_MD5, struct.pack("<IIII", 0x40000, len(data), 0, 0))
    assert r.data == hashlib.md5(data).digest() + b"\x00\x00"


def test_read_flash_sends_one_packet_per_ack_then_the_md5(stub: Host) -> None:
    stub.vc.start_stub(stub.now, "esptool-stub")  # esptool's stubs (PROTOCOL.md 7.3); ours: a window
    stub.wait()
    content = bytes(range(256)) * 40
    stub.vc.flash.data[0x1000:0x1000 + len(content)] = content
    wire = stub.raw(slip.encode(
        struct.pack("<BBHI", 0, op.READ_FLASH, 16, 0) + struct.pack("<IIII", 0x1000, len(content), 0x1000, 64)))
    frames = stub.frames(wire)
    assert frames[0][:2] == b"\x01\xd2" and frames[0][8:] == b"\x00\x00"
    got = frames[1]
    assert len(frames) == 2 and len(got) == 0x1000  # one packet in flight
    while len(got) < len(content):
        more = stub.frames(stub.raw(slip.encode(struct.pack("<I", len(got)))))
        assert len(more) == 1
        got += more[0]
    assert got == content
    digest = stub.frames(stub.raw(slip.encode(struct.pack("<I", len(got)))))
    assert digest == [hashlib.md5(content).digest()]
    assert len(stub.sync()) == 8  # back to commands


def test_erase_flash_and_region(stub: Host) -> None:
    vc = stub.vc
    vc.flash.data[:] = bytes(vc.flash.size)
    assert stub.one(op.ERASE_REGION, struct.pack("<II", 0x3000, 0x2000)).data == b"\x00\x00"
    assert vc.flash.data[0x3000:0x5000] == b"\xff" * 0x2000
    assert vc.flash.data[0x2FFF] == 0 and vc.flash.data[0x5000] == 0
    assert stub.one(op.ERASE_FLASH).data == b"\x00\x00"
    assert vc.flash.data == b"\xff" * vc.flash.size


def test_flash_end_with_reboot_returns_to_the_rom(stub: Host) -> None:
    stub.one(op.FLASH_BEGIN, struct.pack("<IIII", 0, 0, 0x4000, 0))
    assert stub.one(op.FLASH_END, struct.pack("<I", 0)).data == b"\x00\x00"
    stub.wait(0.1)
    replies = stub.sync()
    assert len(replies) == 8 and replies[0].value != 0  # a ROM answers again


def test_run_user_code_gets_no_reply_and_leaves_the_loader(stub: Host) -> None:
    assert stub.send(op.RUN_USER_CODE) == []
    assert stub.sync() == []


def test_change_baudrate_replies_at_the_old_rate_then_switches() -> None:
    h = make("esp32")
    h.vc.strict_baud = True
    h.sync()
    r = h.one(op.CHANGE_BAUDRATE, struct.pack("<II", 460800, 0))
    assert r.data == bytes(4)
    assert h.send(op.READ_REG, struct.pack("<I", 0x40001000)) == []  # host still at 115200: garbage
    h.vc.set_host_baud(460800)
    h.vc.set_host_baud(460800)
    assert h.read_reg(0x40001000) == 0x00F01D83
    assert round(460800 * (h.read_reg(0x3FF40014) & 0xFFFFF) / 1e6) == 40


def test_esp32_rom_sends_a_stray_byte_after_changing_baud() -> None:
    h = make("esp32")
    wire = h.raw(slip.encode(struct.pack("<BBHI", 0, op.CHANGE_BAUDRATE, 8, 0) + struct.pack("<II", 460800, 0)))
    assert wire.endswith(b"\xc0\x20")  # as real ESP32 ROMs do (PROTOCOL.md 14)


@settings(max_examples=25, deadline=None)
@given(content=st.binary(min_size=1, max_size=40000), cuts=st.lists(st.integers(1, 0x4000), max_size=6),
       chip=st.sampled_from(["esp8266", "esp32"]), rom=st.booleans())
def test_compressed_stream_split_anywhere_lands_exactly(content: bytes, cuts: list[int], chip: str,
                                                        rom: bool) -> None:
    """A zlib stream cut into blocks of any size writes the same bytes (stub, and ROM32)."""
    if rom and chip == "esp8266":
        chip = "esp32"
    h = make(chip)
    if not rom:
        h.start_stub()
    else:
        h.attach()
    z = zlib.compress(content, 9)
    blocks, pos = [], 0
    for c in cuts + [0x4000] * (len(z) // 0x4000 + 1):
        if pos >= len(z):
            break
        size = min(c, 0x400) if rom else c
        blocks.append(z[pos:pos + size])
        pos += size
    size_word = -(-len(content) // 0x400) * 0x400 if rom else len(content)
    ok = bytes(4) if rom else b"\x00\x00"
    assert h.one(op.FLASH_DEFL_BEGIN, struct.pack("<IIII", size_word, len(blocks), 0x4000, 0x10000)).data == ok
    for seq, b in enumerate(blocks):
        assert h.data_block(op.FLASH_DEFL_DATA, b, seq).data == ok
    if not rom:
        assert h.one(op.FLASH_DEFL_END, struct.pack("<I", 1)).data == ok
    assert bytes(h.vc.flash.data[0x10000:0x10000 + len(content)]) == content
