"""The virtual chip runs esptk's stage-1 loader as stubs/src/stage1.c behaves: recognised by its
digest, S1HI, ROM-style 2-byte statuses, the baud change, and the next program loaded through it."""

from __future__ import annotations

import struct

from esptk.protocol import op

from .conftest import Host, make, own_stub


def start_stage1(h: Host) -> bytes:
    s1 = own_stub("esp8266").stage1
    assert s1 is not None
    return h.load_program([(s1.text_start, s1.text), (s1.data_start, s1.data)], s1.entry)


def test_stage1_greets_and_answers_only_its_commands() -> None:
    h = make("esp8266")
    assert h.frames(start_stage1(h))[-1] == b"S1HI"
    assert h.vc.loader == "esptk-stage1"
    assert h.sync() == []  # SYNC-free
    assert h.one(op.READ_REG, struct.pack("<I", 0x60000078)).data == b"\x01\x05"
    assert h.one(op.CHANGE_BAUDRATE, struct.pack("<II", 921600, 0)).data == b"\x01\x01"
    s1 = own_stub("esp8266").stage1
    assert s1 is not None
    over_itself = struct.pack("<IIII", 0x100, 1, 0x1800, s1.text_start)
    assert h.one(op.MEM_BEGIN, over_itself).data == b"\x01\x0f"
    assert h.one(op.MEM_BEGIN, struct.pack("<IIII", 8, 1, 0x1800, 0x3FFE9000)).data == b"\x00\x00"
    assert h.data_block(op.MEM_DATA, bytes(8), 0, chk=0x12).data == b"\x01\x07"  # checksum
    assert h.data_block(op.MEM_DATA, bytes(8), 3).data == b"\x01\x01"  # sequence
    assert h.data_block(op.MEM_DATA, bytes(8), 0).data == b"\x00\x00"


def test_stage1_changes_baud_and_starts_the_stub_it_loads() -> None:
    h = make("esp8266")
    start_stage1(h)
    r = h.one(op.CHANGE_BAUDRATE, struct.pack("<II", 921600, 115200))
    assert r.data == b"\x00\x00" and r.value == 0
    assert h.vc.chip_baud == 921600
    after = h.start_stub()
    assert h.frames(after)[-1] == b"OHAI" and h.vc.loader == "esptk-stub"


def test_stage1_start_takes_as_long_as_a_stub_start() -> None:
    """With the timing model the greeting comes STUB_START (54 ms) after the MEM_END reply, as a stub's."""
    h = make("esp8266", timing="all")
    s1 = own_stub("esp8266").stage1
    assert s1 is not None
    h.load_program([(s1.text_start, s1.text), (s1.data_start, s1.data)], s1.entry, dt=0.0)
    early = h.wait(0.03)
    assert h.frames(early)[0][:2] == b"\x01\x06"  # the MEM_END reply, no greeting yet
    assert h.frames(h.wait(0.1)) == [b"S1HI"]
