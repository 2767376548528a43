"""The compiled stage-1 loader (stubs/src/stage1.c) under QEMU: it greets, changes the UART divider
as the ESP8266 stub computes it (chips/esp8266/uart_baud.c, run here on a divider preset in
sysram at the UART0_CLKDIV address), loads the main stub that esptk's real host code sends at the
new baud rate, and that stub then answers; bad blocks and loads over itself are refused."""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from esptk.flashproto import FlashProtocol
from esptk.loader import Loader
from esptk.plugins import Registry
from esptk.protocol import op
from esptk.protocol.packets import STAGE1_HI, checksum, data_payload
from esptk.session import Session, load_via_stage1, negotiate_stub
from esptk.stub import StubImage

from .e2e import symbol, u32s
from .qemu import BUILD
from .qemu_transport import QemuTransport

sys.path.insert(0, str(BUILD.parent))
from elf2json import elf_to_stub  # noqa: E402

CLKDIV = 0x60000014
#: what an ESP8266 ROM autobauds to at 115200 with its 52 MHz UART clock (26 MHz crystal)
ROM_DIVIDER = 451


def stub_image(programs: dict[str, Path]) -> StubImage:
    image = elf_to_stub(programs["sim-stub"], 2, {})
    assert isinstance(image, StubImage)
    return image


def open_stage1(reg: Registry, elf: Path, divider: int = ROM_DIVIDER) -> tuple[Session, QemuTransport]:
    t = QemuTransport(f"qemu://{elf}?word={CLKDIV:#x}:{divider}", 115200)
    t.open()
    spec = reg.chip("esp8266")
    ld = Loader(t)
    s = Session(reg, t, ld, spec, FlashProtocol.default_for(spec, False))
    s.use_loader(False)
    return s, t


@pytest.fixture
def stage1(reg: Registry, programs: dict[str, Path]) -> Iterator[Session]:
    s, t = open_stage1(reg, programs["sim-stage1"])
    try:
        assert s.loader.wait_greeting(5.0, STAGE1_HI)
        yield s
    finally:
        t.close()


def status(s: Session, opcode: int, payload: bytes = b"", chk: int = 0) -> bytes:
    return s.loader.command(opcode, payload, chk, check=False).status


def test_stage1_is_clear_of_the_main_stub(programs: dict[str, Path]) -> None:
    """The main stub's loaded segments never touch stage 1 (code, data, buffer, stack)."""
    main = stub_image(programs)
    lo_text, hi_text = symbol(programs["sim-stage1"], "_text_start"), symbol(programs["sim-stage1"], "_text_end")
    lo_ram, hi_ram = symbol(programs["sim-stage1"], "_data_start"), symbol(programs["sim-stage1"], "_stack_top")
    for start, data in ((main.text_start, main.text), (main.data_start, main.data)):
        for lo, hi in ((lo_text, hi_text), (lo_ram, hi_ram)):
            assert start + len(data) <= lo or hi <= start


@pytest.mark.parametrize(("divider", "baud"), [(ROM_DIVIDER, 921600), (ROM_DIVIDER, 460800), (694, 230400)])
def test_stage1_loads_the_stub_at_the_new_baud(reg: Registry, programs: dict[str, Path], divider: int,
                                                baud: int) -> None:
    s, t = open_stage1(reg, programs["sim-stage1"], divider)
    try:
        assert s.loader.wait_greeting(5.0, STAGE1_HI)  # the greeting is S1HI, not the stub's OHAI
        load_via_stage1(s, stub_image(programs), baud)  # CHANGE_BAUDRATE, MEM_* at the new baud, OHAI
        assert t.baud == baud
        s.use_loader(True)
        v = negotiate_stub(s)
        assert v is not None and v.protocol == 2 and v.chip == 0x8266
        assert s.loader.read_reg(CLKDIV) == divider * 115200 // baud
    finally:
        t.close()


def test_corrupted_block_is_refused_with_a_checksum_status(stage1: Session) -> None:
    data = bytes(range(1, 17))
    addr = 0x3FFE9000
    assert status(stage1, op.MEM_BEGIN, u32s(2 * len(data), 2, 0x1800, addr)) == b"\0\0"
    bad = checksum(data) ^ 0x01
    assert status(stage1, op.MEM_DATA, data_payload(data, 0), bad) == b"\x01\x07"
    # the same block, intact, is taken (the refusal did not advance the sequence)
    assert status(stage1, op.MEM_DATA, data_payload(data, 0), checksum(data)) == b"\0\0"
    assert status(stage1, op.MEM_END, u32s(1, 0)) == b"\x01\x0e"  # a block is missing
    assert status(stage1, op.MEM_DATA, data_payload(data, 5), checksum(data)) == b"\x01\x01"  # wrong seq
    assert status(stage1, op.MEM_DATA, data_payload(data, 1), checksum(data)) == b"\0\0"
    assert status(stage1, op.MEM_END, u32s(1, 0)) == b"\0\0"  # no entry: stays in stage 1
    assert status(stage1, op.MEM_BEGIN, u32s(4, 1, 0x1800, addr)) == b"\0\0"


def test_stage1_refuses_what_it_does_not_serve(stage1: Session, programs: dict[str, Path]) -> None:
    own_text = symbol(programs["sim-stage1"], "_text_start")
    own_ram = symbol(programs["sim-stage1"], "_stack_top") - 0x100  # its stack
    assert status(stage1, op.MEM_BEGIN, u32s(0x100, 1, 0x1800, own_text - 0x80)) == b"\x01\x0f"
    assert status(stage1, op.MEM_BEGIN, u32s(0x40, 1, 0x1800, own_ram)) == b"\x01\x0f"
    assert status(stage1, op.MEM_DATA, data_payload(b"abcd", 0), checksum(b"abcd")) == b"\x01\x0e"  # no BEGIN
    assert status(stage1, op.READ_REG, struct.pack("<I", CLKDIV)) == b"\x01\x05"  # not served
    assert status(stage1, op.CHANGE_BAUDRATE, u32s(921600, 0)) == b"\x01\x01"  # old rate needed
    assert status(stage1, op.MEM_END, u32s(0)) == b"\x01\x05"  # bad length
    with pytest.raises(Exception, match="SYNC"):
        stage1.loader.sync()  # SYNC-free
