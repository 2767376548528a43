"""The host's side of stub protocol 2 (contract A) against the virtual chip: blocks in flight,
deferred errors, the READ_FLASH window, and the ROM baud change before the stub upload."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterator

import pytest

from esptk import flasher, stream
from esptk.errors import CommandFailed
from esptk.plugins import make_plugin_manager
from esptk.protocol import op
from esptk.session import Session, connect

DATA_OPS = (op.FLASH_DATA, op.FLASH_DEFL_DATA)


class Wire:
    """A --trace callback that keeps the opcodes going out and coming back, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, bytes]] = []

    def __call__(self, direction: str, packet: bytes) -> None:
        if direction == "out" and len(packet) >= 8 and packet[0] == 0:
            self.events.append(("out", packet[1], packet[8:]))
        elif direction == "in" and len(packet) >= 8 and packet[0] == 1:
            self.events.append(("in", packet[1], packet[8:]))

    def most_in_flight(self) -> int:
        open_, most = 0, 0
        for d, o, _ in self.events:
            if o in DATA_OPS:
                open_ += 1 if d == "out" else -1
                most = max(most, open_)
        return most

    def sent(self) -> list[int]:
        return [o for d, o, _ in self.events if d == "out"]


@pytest.fixture
def session_of() -> Iterator:
    opened: list[Session] = []

    def open_(url: str, wire: Wire | None = None, baud: int = 115200) -> Session:
        s = connect(make_plugin_manager(), port=url, baud=baud, trace=wire)
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.close("no_reset_stub")


def firmware(size: int, seed: int = 5) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(32)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.7 else rnd.randbytes(4) for _ in range(size // 4))


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_protocol_2_keeps_max_in_flight_blocks_outstanding_and_writes_right(session_of, chip: str) -> None:  # type: ignore[no-untyped-def]
    wire = Wire()
    s = session_of(f"sim://{chip}?stub_protocol=2&stub_in_flight=2", wire)
    assert s.stub_version is not None and s.stub_version.protocol == 2
    window = s.stub_version.max_in_flight
    assert window >= 2
    packed, plain = firmware(200_000), random.Random(9).randbytes(70_000)  # compressed, and not compressible
    res = flasher.write_flash(s, [flasher.Region(0x10000, packed), flasher.Region(0x80000, plain)])
    assert all(r.verified for r in res) and res[1].compressed is None
    assert wire.most_in_flight() == window  # pipelined, and never more than the stub allows
    assert flasher.read_flash(s, 0x10000, len(packed)) == packed
    assert flasher.read_flash(s, 0x80000, len(plain)) == plain


def test_protocol_1_and_other_loaders_stay_stop_and_wait(session_of) -> None:  # type: ignore[no-untyped-def]
    wire = Wire()
    s = session_of("sim://esp32?stub_protocol=1", wire)
    assert s.stub_version is not None and s.stub_version.protocol == 1
    assert s.stub_version.max_in_flight == 1 and stream.window_of(s) == stream.Window(1, 1, False)
    flasher.write_flash(s, [flasher.Region(0x10000, firmware(100_000))])
    assert wire.most_in_flight() == 1


def test_read_flash_asks_for_the_window_the_stub_offers(session_of) -> None:  # type: ignore[no-untyped-def]
    wire = Wire()
    s = session_of("sim://esp32?stub_protocol=2&stub_in_flight=2", wire)
    data = random.Random(3).randbytes(50_000)
    flasher.write_flash(s, [flasher.Region(0x20000, data)])
    assert flasher.read_flash(s, 0x20000, len(data)) == data
    requests = [p for d, o, p in wire.events if d == "out" and o == op.READ_FLASH]
    assert struct.unpack("<IIII", requests[-1])[3] == s.stub_version.read_window > 1


@pytest.mark.parametrize("in_flight", [1, 2])
def test_a_deferred_error_fails_the_write_naming_the_flash_it_concerns(session_of, in_flight: int) -> None:  # type: ignore[no-untyped-def]
    s = session_of(f"sim://esp32?stub_protocol=2&stub_in_flight={in_flight}")
    assert stream.window_of(s) == stream.Window(in_flight, s.stub_version.read_window, True)
    flasher.prepare(s)
    good = zlib.compress(firmware(120_000), 9)
    bad = b"\0" + good[1:]  # not a zlib header: block 0 fails to inflate, after its acknowledgement
    blocks = [bad[i : i + 0x4000] for i in range(0, len(bad), 0x4000)]
    ends = [min(120_000, (i + 1) * 0x8000) for i in range(len(blocks))]
    s.loader.command(op.FLASH_DEFL_BEGIN, struct.pack("<IIII", 120_000, len(blocks), 0x4000, 0x40000))
    with pytest.raises(CommandFailed) as e:
        stream.send_blocks(s, op.FLASH_DEFL_DATA, blocks, ends, 0x40000, in_flight)
    text = str(e.value)
    assert "inflate error" in text and "reported on block " in text  # a later block than the bad one
    lo, hi = (int(x, 16) for x in text.rsplit("writing ", 1)[1].split("-"))
    assert lo <= 0x40000 < hi  # block 0's flash lies in the range named


@pytest.mark.parametrize("chip,before_stub", [("esp32", True), ("esp8266", False)])
def test_a_rom_that_can_changes_baud_before_the_stub_upload(session_of, chip: str, before_stub: bool) -> None:  # type: ignore[no-untyped-def]
    wire = Wire()
    s = session_of(f"sim://{chip}", wire, baud=460800)
    sent = wire.sent()
    first_upload = sent.index(op.MEM_BEGIN)
    assert (op.CHANGE_BAUDRATE in sent[:first_upload]) is before_stub
    assert s.transport.baud == 460800 and sent.count(op.CHANGE_BAUDRATE) == 1
    assert flasher.read_flash(s, 0, 0x1000) == b"\xff" * 0x1000  # and the stub talks at that rate
