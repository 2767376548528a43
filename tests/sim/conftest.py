"""Helpers for the engine tests: a tiny host that speaks to a VirtualChip with explicit time."""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass

import pytest

from esptk.protocol import op, slip
from esptk.stub import StubImage
from esptk_sim.engine import VirtualChip
from esptk_sim.factory import make_chip

SYNC = b"\x07\x07\x12\x20" + b"\x55" * 32


def checksum(data: bytes) -> int:
    v = 0xEF
    for b in data:
        v ^= b
    return v


@dataclass
class Reply:
    op: int
    value: int
    data: bytes

    @property
    def status(self) -> bytes:
        return self.data


class Host:
    def __init__(self, vc: VirtualChip) -> None:
        self.vc = vc
        self.now = 0.0
        self.decoder = slip.SlipDecoder()

    def raw(self, data: bytes, dt: float = 0.0) -> bytes:
        """Send bytes, return everything the chip sent until ``dt`` later."""
        self.vc.receive(data, self.now)
        return self.wait(dt)

    def wait(self, dt: float = 0.0) -> bytes:
        self.now += dt
        return self.vc.poll(self.now)

    def frames(self, data: bytes) -> list[bytes]:
        return list(self.decoder.feed(data))

    def send(self, opcode: int, payload: bytes = b"", chk: int = 0, dt: float = 0.0) -> list[Reply]:
        wire = slip.encode(struct.pack("<BBHI", 0, opcode, len(payload), chk) + payload)
        out = []
        for f in self.frames(self.raw(wire, dt)):
            if len(f) >= 8 and f[0] == 1:
                _d, o, _size, value = struct.unpack_from("<BBHI", f)
                out.append(Reply(o, value, f[8:]))
        return out

    def one(self, opcode: int, payload: bytes = b"", chk: int = 0) -> Reply:
        """The single reply to one command (with the timing model: what came within twice the line time + 0.1 s)."""
        dt = 0.1 + 20 * (len(payload) + 16) / self.vc.host_baud if self.vc.timing.enabled else 0.0
        replies = self.send(opcode, payload, chk, dt=dt)
        assert len(replies) == 1, replies
        return replies[0]

    def sync(self) -> list[Reply]:
        return self.send(op.SYNC, SYNC)

    def read_reg(self, addr: int) -> int:
        r = self.one(op.READ_REG, struct.pack("<I", addr))
        assert r.data[0] == 0, r
        return r.value

    def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF) -> Reply:
        return self.one(op.WRITE_REG, struct.pack("<IIII", addr, value, mask, 0))

    def data_block(self, opcode: int, block: bytes, seq: int, chk: int | None = None) -> Reply:
        payload = struct.pack("<IIII", len(block), seq, 0, 0) + block
        return self.one(opcode, payload, checksum(block) if chk is None else chk)

    def load_program(self, segments: list[tuple[int, bytes]], entry: int, dt: float = 0.5) -> bytes:
        """MEM_BEGIN/MEM_DATA each segment, then MEM_END jumping to ``entry``: the bytes sent after it."""
        for addr, data in segments:
            blocks = -(-len(data) // 0x1800)
            assert self.one(op.MEM_BEGIN, struct.pack("<IIII", len(data), blocks, 0x1800, addr)).data[0] == 0
            for seq in range(blocks):
                assert self.data_block(op.MEM_DATA, data[seq * 0x1800:(seq + 1) * 0x1800], seq).data[0] == 0
        wire = slip.encode(struct.pack("<BBHI", 0, op.MEM_END, 8, 0) + struct.pack("<II", 0, entry))
        return self.raw(wire, dt)

    def start_stub(self) -> bytes:
        """Load esptk's own stub for this chip to RAM and run it: returns the bytes after MEM_END."""
        image = own_stub(self.vc.chip.name)
        segments = [(image.text_start, image.text)] + ([(image.data_start, image.data)] if image.data else [])
        return self.load_program(segments, image.entry)

    def attach(self) -> None:
        if op.SPI_ATTACH in self.vc.chip.rom_commands:
            assert self.one(op.SPI_ATTACH, bytes(8)).data[0] == 0


@functools.cache
def own_stub(chip: str) -> StubImage:
    from esptk.plugins import make_plugin_manager

    reg = make_plugin_manager()
    image = reg.chip_hook(reg.chip(chip)).esptk_select_stub(chip=reg.chip(chip), revision=None)
    assert isinstance(image, StubImage)
    return image


def make(chip: str, **options: str) -> Host:
    vc = make_chip(chip, dict(options))
    vc.power_on(0.0, quiet=True)
    return Host(vc)


@pytest.fixture
def esp32() -> Host:
    return make("esp32")


@pytest.fixture
def esp8266() -> Host:
    return make("esp8266")


def deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


@pytest.fixture
def registry():  # type: ignore[no-untyped-def]
    from esptk.plugins import make_plugin_manager

    return make_plugin_manager()
