"""End to end: esptk's host code (session, loader, flasher) drives the compiled stub in QEMU."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from esptk import flasher
from esptk.flasher import Region
from esptk.plugins import Registry
from esptk.protocol import op
from esptk.protocol.packets import checksum, data_payload
from esptk.session import Session

from .e2e import EXIT_REBOOT, EXIT_RUN_USER_CODE, FLASH_SIZE, FLAVOURS, stub_session, symbol, u32s
from .qemu_transport import QemuTransport
from .test_unit import firmware_like

GET_VERSION = 0xF0


@pytest.fixture
def elf(programs: dict[str, Path], flavour: str) -> Path:
    return programs[FLAVOURS[flavour][0]]


@pytest.fixture
def sess(reg: Registry, elf: Path, flavour: str) -> Iterator[tuple[Session, QemuTransport]]:
    with stub_session(reg, elf, FLAVOURS[flavour][1]) as st:
        yield st


def test_connect_sees_a_running_stub(sess: tuple[Session, QemuTransport], flavour: str) -> None:
    s, _ = sess
    assert s.stub and s.chip.name == flavour
    # negotiated on connect; a host that reads only 16-byte (v1) replies sees an unknown stub
    assert s.stub_version is None or s.stub_version.protocol == 2
    values = s.loader.sync()
    assert values == [0] * 8


def test_get_version(sess: tuple[Session, QemuTransport], flavour: str) -> None:
    r = sess[0].loader.command(GET_VERSION, data_len=24)
    version, chip, caps, block, in_flight, window = (int.from_bytes(r.data[i:i + 4], "little") for i in range(0, 24, 4))
    assert (version, chip, block, in_flight, window) == (2, FLAVOURS[flavour][2], 0x4000, 1, 8)
    # deflate, read, erase, md5, 20-byte begin, streaming, sector MD5, read window (no immediate
    # errors); run-user-code on the ESP8266 only, encrypted writes on the ESP32 only
    assert caps == 0x3AF | (0x10 if flavour == "esp8266" else 0x400)


def test_compressed_write_read_back_md5(sess: tuple[Session, QemuTransport], flavour: str) -> None:
    s, _ = sess
    data = firmware_like(1 << 20, 42)
    [res] = flasher.write_flash(s, [Region(0x10000, data)], compress=True, flash_size=FLASH_SIZE)
    assert res.verified and res.compressed is not None and res.compressed < len(data) // 2
    back = flasher.read_flash(s, 0x10000, len(data))
    assert back == data
    assert flasher.flash_md5(s, 0x10000, len(data)) == hashlib.md5(data).digest()
    # Neighbours untouched: the sector before and after the image are still erased.
    assert flasher.read_flash(s, 0x10000 - 0x1000, 0x1000) == b"\xff" * 0x1000
    end = 0x10000 + len(data)
    assert flasher.read_flash(s, end, 0x1000) == b"\xff" * 0x1000


def test_plain_write_of_odd_length_and_overwrite(sess: tuple[Session, QemuTransport]) -> None:
    s, _ = sess
    first = firmware_like(70_001, 1)
    flasher.write_flash(s, [Region(0x200000, first)], compress=False, flash_size=FLASH_SIZE)
    second = firmware_like(40_003, 2)
    [res] = flasher.write_flash(s, [Region(0x200000, second)], compress=False, flash_size=FLASH_SIZE)
    assert res.verified and res.compressed is None
    # The lazy erase covered the whole new image; the rest of the old one is beyond its sectors.
    assert flasher.read_flash(s, 0x200000, len(second)) == second
    tail = flasher.read_flash(s, 0x200000 + 0xA000, 70_001 - 0xA000)
    assert tail == first[0xA000:]


def test_several_regions_compressed(sess: tuple[Session, QemuTransport]) -> None:
    s, _ = sess
    regions = [Region(0x1000, firmware_like(20_000, 3)), Region(0x8000, b"\x01" * 3072),
               Region(0x30000, bytes(300_000))]
    results = flasher.write_flash(s, regions, compress=True, flash_size=FLASH_SIZE)
    assert all(r.verified for r in results)
    for r in regions:
        assert flasher.read_flash(s, r.address, len(r.data)) == r.data


def test_erase_region_and_erase_flash(sess: tuple[Session, QemuTransport]) -> None:
    s, _ = sess
    flasher.write_flash(s, [Region(0x100000, b"\x00" * 0x30000)], compress=True, flash_size=FLASH_SIZE)
    assert flasher.erase_region(s, 0x110000, 0x11000)  # verified by MD5 inside
    back = flasher.read_flash(s, 0x100000, 0x30000)
    assert back == b"\x00" * 0x10000 + b"\xff" * 0x11000 + b"\x00" * 0xF000
    flasher.erase_flash(s)
    assert flasher.flash_md5(s, 0, FLASH_SIZE) == hashlib.md5(b"\xff" * FLASH_SIZE).digest()


def test_error_codes(sess: tuple[Session, QemuTransport]) -> None:
    ld = sess[0].loader
    cases = [
        (0x99, b"", 0xC3),  # unknown opcode
        (op.READ_FLASH_SLOW, u32s(0, 64), 0xC3),  # a ROM-only command
        (op.READ_REG, u32s(0, 0), 0xC0),  # strict lengths
        (op.SPI_ATTACH, u32s(0, 0), 0xC0),
        (op.FLASH_BEGIN, u32s(0, 0, 0x4000), 0xC0),
        (op.FLASH_BEGIN, u32s(0x100, 1, 0x8000, 0), 0xC2),  # block too big
        (op.FLASH_END, u32s(1), 0xC6),  # not in flash mode
        (op.ERASE_REGION, u32s(0x1001, 0x1000), 0x32),
        (op.ERASE_REGION, u32s(0x1000, 0x800), 0x33),
        (op.WRITE_REG, u32s(0x63000000, 0, 0), 0xC0),
        (op.MEM_END, u32s(1, 0), 0xC6),
        (op.READ_FLASH, u32s(0, 16, 0x8000, 1), 0xC2),
    ]
    for opcode, payload, code in cases:
        r = ld.command(opcode, payload, check=False)
        assert r.status == bytes([code, 0]), (hex(opcode), r.status)
    # FLASH_DATA outside flash mode, and with a bad checksum inside it.
    assert ld.command(op.FLASH_DATA, data_payload(b"x" * 4, 0), checksum(b"x" * 4), check=False).status[0] == 0xC6
    ld.command(op.FLASH_BEGIN, u32s(4, 1, 0x4000, 0x3000))
    assert ld.command(op.FLASH_DATA, data_payload(b"abcd", 0), 0x11, check=False).status[0] == 0xC1
    # The block can be sent again after a checksum error; then END is accepted.
    ld.command(op.FLASH_DATA, data_payload(b"abcd", 0), checksum(b"abcd"))
    ld.command(op.FLASH_END, u32s(1))
    # A frame longer than the largest payload.
    r = ld.command(op.FLASH_DATA, data_payload(b"\0" * 0x4010, 0), 0xEF, check=False)
    assert r.status == b"\xc0\xee"


def test_deflate_error_paths(sess: tuple[Session, QemuTransport]) -> None:
    ld = sess[0].loader

    def defl_begin(size: int) -> None:
        ld.command(op.FLASH_DEFL_BEGIN, u32s(size, 1, 0x4000, 0x40000, 0))  # 20-byte form

    def defl(block: bytes, seq: int = 0) -> int:
        return ld.command(op.FLASH_DEFL_DATA, data_payload(block, seq), checksum(block), check=False).status[0]

    def end() -> int:
        return ld.command(op.FLASH_DEFL_END, u32s(1), check=False).status[0]

    # Errors found while inflating are deferred: the block is acknowledged on receipt, the error
    # is the status of every later data, end and MD5 reply until the next BEGIN.
    defl_begin(1000)
    assert defl(b"\x78\x9c\xff\xff\xff\xff") == 0  # invalid block type, found after the ack
    assert defl(b"\x00" * 8, 1) == 0xC7
    assert end() == 0xC7
    assert ld.command(op.SPI_FLASH_MD5, u32s(0, 16, 0, 0), check=False).status[0] == 0xC7
    data = firmware_like(5000, 8)
    packed = zlib.compress(data)
    defl_begin(len(data))  # a new BEGIN clears it
    assert defl(packed[:100]) == 0
    assert end() == 0xC8  # stream unfinished
    defl_begin(len(data) - 1)
    assert defl(packed) == 0
    assert end() == 0xC9  # more output than announced
    defl_begin(len(data))
    assert defl(packed) == 0
    ld.command(op.FLASH_DEFL_END, u32s(1))
    assert ld.md5(0x40000, len(data), False) == hashlib.md5(data).digest()


def test_registers_and_baud(sess: tuple[Session, QemuTransport], elf: Path, flavour: str) -> None:
    s, t = sess
    ld = s.loader
    ld.write_reg(0x63000000, 0x12345678)
    ld.write_reg(0x63000000, 0xABCD0000, mask=0xFFFF0000)
    assert ld.read_reg(0x63000000) == 0xABCD5678
    ld.command(op.WRITE_REG, u32s(0x63000004, 1, 0xFFFFFFFF, 0, 0x63000008, 2, 0xFFFFFFFF, 10))
    assert (ld.read_reg(0x63000004), ld.read_reg(0x63000008)) == (1, 2)
    assert ld.read_reg(0x40001000) == FLAVOURS[flavour][3]
    from esptk.session import change_baud

    change_baud(s, 921600)
    assert t.baud == 921600
    assert ld.read_reg(symbol(elf, "sim_baud")) == 921600
    ld.command(op.SPI_ATTACH, u32s(0x1234))
    assert ld.read_reg(symbol(elf, "sim_attach")) == 0x1234
    r = ld.command(op.SPI_SET_PARAMS, u32s(0, 2 << 20, 0x10000, 0x1000, 0x100, 0xFFFF))
    assert r.status == b"\0\0"
    # The flash is now 2 MB for the stub: reads beyond are refused.
    assert ld.command(op.SPI_FLASH_MD5, u32s(2 << 20, 16, 0, 0), check=False).status[0] == 0x63


def test_mem_upload_runs_code(sess: tuple[Session, QemuTransport]) -> None:
    s, t = sess
    code = bytes.fromhex("0c120c73005100") + b"\0"  # movi a2, 1; movi a3, 7; simcall -> exit(7)
    ld = s.loader
    ld.mem_begin(len(code), 1, 0x1800, 0x63001000)
    assert ld.command(op.MEM_END, u32s(0, 0x63001000), check=False).status[0] == 0xC8  # data missing
    ld.data_command(op.MEM_DATA, code, 0)
    ld.mem_end(0x63001000)
    assert t.wait_exit() == 7


def test_mem_upload_over_the_stub_is_refused(sess: tuple[Session, QemuTransport], elf: Path) -> None:
    ld = sess[0].loader
    text, top = symbol(elf, "_text_start"), symbol(elf, "_stack_top")
    for addr, size in ((text, 4), (text - 8, 16), (text + 0x100, 0x1800), (top - 4, 4), (top - 0x100000, 0x100000)):
        assert ld.command(op.MEM_BEGIN, u32s(size, 1, 0x1800, addr), check=False).status[0] == 0xC9, hex(addr)
    ld.mem_begin(8, 1, 0x1800, text - 8)  # right below the code: fine
    ld.mem_begin(16, 1, 0x1800, top)  # right above the stack: fine
    assert ld.read_reg(symbol(elf, "sim_baud")) == 115200  # still running


def test_flash_end_zero_reboots(sess: tuple[Session, QemuTransport]) -> None:
    s, t = sess
    s.loader.command(op.FLASH_BEGIN, u32s(0, 0, 0x4000, 0))
    s.loader.command(op.FLASH_END, u32s(0))
    assert t.wait_exit() == EXIT_REBOOT


def test_run_user_code(sess: tuple[Session, QemuTransport], flavour: str) -> None:
    s, t = sess
    if flavour == "esp32":  # esptool uses it on the ESP8266 only; our ESP32 stub refuses it
        assert s.loader.command(op.RUN_USER_CODE, check=False).status == b"\xc3\x00"
        return
    s.loader.send_frame(bytes([0, op.RUN_USER_CODE, 0, 0, 0, 0, 0, 0]))  # no reply
    assert t.wait_exit() == EXIT_RUN_USER_CODE


def test_block_repeated_after_a_lost_reply_is_taken_once(sess: tuple[Session, QemuTransport]) -> None:
    ld = sess[0].loader
    data = firmware_like(300_000, 10)
    packed = zlib.compress(data, 9)
    blocks = [packed[i:i + 0x4000] for i in range(0, len(packed), 0x4000)]
    assert len(blocks) > 2
    ld.command(op.FLASH_DEFL_BEGIN, u32s(len(data), len(blocks), 0x4000, 0x50000))
    for seq, block in enumerate(blocks):
        ld.data_command(op.FLASH_DEFL_DATA, block, seq)
        ld.data_command(op.FLASH_DEFL_DATA, block, seq)  # as if the first reply had been lost
    skipped = ld.command(op.FLASH_DEFL_DATA, data_payload(b"x", len(blocks) + 1), checksum(b"x"), check=False)
    assert skipped.status[0] == 0xC0  # a block from the future is refused
    ld.command(op.FLASH_DEFL_END, u32s(1))
    assert ld.md5(0x50000, len(data), False) == hashlib.md5(data).digest()
