"""Encrypted writes (CAP_ENCRYPTED_WRITE, ESP32 only): FLASH_BEGIN / FLASH_DEFL_BEGIN with a 5th word
of 1 send the data through the flash encryption engine. QEMU has no engine: the ESP32 test build's
HAL stands in for the ROM routine (XOR with a function of the address, and, like the ROM, it
overwrites its source buffer), so these tests prove the call path: 32-byte aligned units at the
right addresses, every byte once, a compressed stream whose back-references survive the in-place
encryption, and refusals. What the real engine writes is for a board to confirm."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from esptk.loader import Loader
from esptk.plugins import Registry
from esptk.protocol import op
from esptk.protocol.packets import checksum, data_payload

from .e2e import FLAVOURS, stub_session, symbol, u32s
from .test_unit import firmware_like

BLOCK = 0x4000
CAP_ENCRYPTED_WRITE = 1 << 10


@pytest.fixture
def session(reg: Registry, programs: dict[str, Path], flavour: str) -> Iterator[tuple[Loader, Path]]:
    elf = programs[FLAVOURS[flavour][0]]
    with stub_session(reg, elf, FLAVOURS[flavour][1]) as (s, _t):
        yield s.loader, elf


@pytest.fixture
def esp32(reg: Registry, programs: dict[str, Path]) -> Iterator[Loader]:
    program, cpu, *_ = FLAVOURS["esp32"]
    with stub_session(reg, programs[program], cpu) as (s, _t):
        yield s.loader


def stand_in_engine(addr: int, data: bytes) -> bytes:
    words = struct.unpack(f"<{len(data) // 4}I", data)
    return b"".join(struct.pack("<I", w ^ (((addr + 4 * i) * 0x9E3779B1) & 0xFFFFFFFF) ^ 0xA5A5A5A5)
                    for i, w in enumerate(words))


def write(ld: Loader, ops: tuple[int, int, int], data: bytes, addr: int, sent: bytes | None = None) -> None:
    """An encrypted transfer of data at addr (sent: the bytes on the wire when compressed)."""
    sent = data if sent is None else sent
    blocks = [sent[i:i + BLOCK] for i in range(0, len(sent), BLOCK)]
    ld.command(ops[0], u32s(len(data), len(blocks), BLOCK, addr, 1))
    for i, b in enumerate(blocks):
        ld.data_command(ops[1], b, i)
    ld.command(ops[2], u32s(1))


def capabilities(ld: Loader) -> int:
    return int.from_bytes(ld.command(0xF0, data_len=24).data[8:12], "little")


def raw(ld: Loader, addr: int, size: int) -> bytes:
    ld.command(op.READ_FLASH, u32s(addr, size, 0x1000, 8))
    out = b""
    while len(out) < size:
        out += ld.read_frame(3.0)
        ld.send_frame(struct.pack("<I", len(out)))
    ld.read_frame(3.0)  # MD5
    return out


def test_encrypted_writes_go_through_the_engine_on_the_esp32_only(session: tuple[Loader, Path],
                                                                 flavour: str) -> None:
    ld, elf = session
    data = firmware_like(0xA000, 3)
    if flavour == "esp8266":
        assert not capabilities(ld) & CAP_ENCRYPTED_WRITE
        assert ld.command(op.FLASH_BEGIN, u32s(len(data), 3, BLOCK, 0x10000, 1), check=False).status[0] == 0xFF
        return
    assert capabilities(ld) & CAP_ENCRYPTED_WRITE
    write(ld, (op.FLASH_BEGIN, op.FLASH_DATA, op.FLASH_END), data, 0x10000)
    assert raw(ld, 0x10000, len(data)) == stand_in_engine(0x10000, data)
    assert ld.read_reg(symbol(elf, "sim_encrypted_writes")) == len(data) // 32
    # compressed: the inflate window must not be the buffer the engine overwrites
    write(ld, (op.FLASH_DEFL_BEGIN, op.FLASH_DEFL_DATA, op.FLASH_DEFL_END), data, 0x30000, zlib.compress(data, 9))
    assert raw(ld, 0x30000, len(data)) == stand_in_engine(0x30000, data)
    # a plain write after it is plain again
    ld.command(op.FLASH_BEGIN, u32s(64, 1, BLOCK, 0x50000, 0))
    ld.data_command(op.FLASH_DATA, data[:64], 0)
    ld.command(op.FLASH_END, u32s(1))
    assert raw(ld, 0x50000, 64) == data[:64]


@pytest.mark.parametrize(("size", "block", "offset"), [(100, BLOCK, 0x10000), (64, 1000, 0x10000),
                                                       (64, BLOCK, 0x10010)])
def test_encrypted_writes_need_32_byte_units(esp32: Loader, size: int, block: int, offset: int) -> None:
    assert esp32.command(op.FLASH_BEGIN, u32s(size, 1, block, offset, 1), check=False).status[0] == 0xC0


def test_an_odd_sized_block_in_an_encrypted_write_fails(esp32: Loader) -> None:
    ld = esp32
    ld.command(op.FLASH_BEGIN, u32s(128, 2, 64, 0x60000, 1))
    block = b"\x11" * 40
    assert ld.command(op.FLASH_DATA, data_payload(block, 0), checksum(block), check=False).status[0] == 0
    assert ld.command(op.FLASH_END, u32s(1), check=False).status[0] == 0xC0  # deferred
