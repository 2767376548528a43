"""The timing model per loader (esptk_sim.timing): link and flash halves, when each stub replies,
our stub's protocol 1 and 2 (contract A), and the calibration against esptool issue #919.

Time here is the virtual chip's input, not the wall clock: nothing is timed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import struct
import zlib

import pytest

from esptk.errors import UsageError
from esptk.protocol import caps, op, slip
from esptk_sim.options import parse_options
from esptk_sim.timing import BLANK_READ_RATE

from .conftest import Host, checksum, make

PAGE = 0.00172  # the calibrated page program time (esptk_sim.timing)


def load_our_stub(h: Host, registry) -> bytes:  # type: ignore[no-untyped-def]
    """Upload the chip plugin's real stub image as a host would; returns the frames after MEM_END."""
    return h.start_stub()


def esptool_stub(h: Host) -> None:
    """esptool's stub runs (the sim tells it by digest; here it is started directly)."""
    h.vc.start_stub(h.now, "esptool-stub")
    assert h.wait(0.5).endswith(b"\xc0OHAI\xc0")


def first_reply_time(h: Host, opcode: int, payload: bytes, chk: int = 0, step: float = 0.0005,
                     limit: float = 5.0) -> tuple[float, bytes]:
    """Send a request at h.now; step virtual time until its reply arrives: (delay, status bytes)."""
    start = h.now
    h.vc.receive(slip.encode(struct.pack("<BBHI", 0, opcode, len(payload), chk) + payload), h.now)
    while h.now - start < limit:
        for f in h.frames(h.vc.poll(h.now)):
            if len(f) >= 10 and f[0] == 1 and f[1] == opcode:
                return h.now - start, f[8:]
        h.now += step
    raise AssertionError("no reply")


def data_payload(block: bytes, seq: int) -> bytes:
    return struct.pack("<IIII", len(block), seq, 0, 0) + block


# --- modes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,link,flash", [("1", True, True), ("all", True, True), ("link", True, False),
                                             ("flash", False, True), ("off", False, False)])
def test_timing_modes_switch_link_and_flash_separately(text: str, link: bool, flash: bool) -> None:
    t = parse_options("esp32", {"timing": text}).timing
    assert (t.link, t.flash) == (link, flash)


def test_an_unknown_timing_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="timing"):
        parse_options("esp32", {"timing": "fast"})


def test_timing_flash_leaves_the_line_instant_but_charges_the_erase() -> None:
    h = make("esp32", timing="flash", latency_ms="4")
    h.attach()  # instant: no line time, no latency
    delay, status = first_reply_time(h, op.FLASH_BEGIN, struct.pack("<IIII", 0x10000, 64, 0x400, 0))
    assert status[:1] == b"\0" and 0.150 <= delay < 0.152  # one 64 KiB block erase, nothing else


# --- when each loader replies to a data block ----------------------------------------------------
def begin_and_block(h: Host) -> tuple[float, float]:
    """FLASH_BEGIN + one 16 KiB FLASH_DATA (64 pages) + FLASH_END: delays of the DATA and END replies."""
    assert h.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x4000, 1, 0x4000, 0x10000)).data[0] == 0
    block = bytes(range(256)) * 64
    data_delay, status = first_reply_time(h, op.FLASH_DATA, data_payload(block, 0), checksum(block))
    assert status == b"\0\0"
    end_delay, status = first_reply_time(h, op.FLASH_END, struct.pack("<I", 1))
    assert status == b"\0\0"
    return data_delay, end_delay


def test_esptool_stub_model_acknowledges_before_programming() -> None:
    h = make("esp32", timing="flash")
    esptool_stub(h)
    data_delay, end_delay = begin_and_block(h)
    work = 4 * 0.045 + 64 * PAGE  # four sector erases, 64 page programs
    assert data_delay == 0.0
    assert end_delay == pytest.approx(work, abs=0.001)  # the END barrier waits for the work


def test_our_stub_protocol_1_replies_after_the_work(registry) -> None:  # type: ignore[no-untyped-def]
    h = make("esp32", timing="flash", stub_protocol="1")
    assert load_our_stub(h, registry).endswith(b"\xc0OHAI\xc0")
    assert h.vc.loader == "esptk-stub"
    version = h.one(op.GET_VERSION)
    assert len(version.data) == 18 and version.data[-2:] == b"\0\0"  # 16 bytes + status
    proto, _chip, capabilities, max_block = struct.unpack("<4I", version.data[:16])
    assert proto == 1 and max_block == 0x4000
    assert capabilities & caps.IMMEDIATE_ERRORS and not capabilities & caps.STREAMING
    data_delay, end_delay = begin_and_block(h)
    assert data_delay == pytest.approx(4 * 0.045 + 64 * PAGE, abs=0.001)
    assert end_delay == 0.0


def test_esptool_stub_does_not_know_get_version() -> None:
    h = make("esp32")
    esptool_stub(h)
    assert h.one(op.GET_VERSION).data == b"\xc3\x00"


@pytest.fixture
def v2(registry) -> Host:  # type: ignore[no-untyped-def]
    h = make("esp8266", timing="flash", stub_protocol="2")
    assert load_our_stub(h, registry).endswith(b"\xc0OHAI\xc0")
    return h


def test_our_stub_protocol_2_advertises_streaming_and_acknowledges_on_receipt(v2: Host) -> None:
    version = v2.one(op.GET_VERSION)
    assert len(version.data) == 26 and version.data[-2:] == b"\0\0"
    proto, chip, capabilities, max_block, in_flight, window = struct.unpack("<6I", version.data[:24])
    assert (proto, chip, max_block) == (2, 0x8266, 0x4000)
    assert capabilities & caps.STREAMING and capabilities & caps.READ_WINDOW
    assert not capabilities & caps.IMMEDIATE_ERRORS
    assert in_flight >= 1 and window >= 2
    data_delay, end_delay = begin_and_block(v2)
    assert data_delay == 0.0 and end_delay > 0.1


def test_our_stub_does_not_erase_blank_flash_but_erases_used_flash(v2: Host) -> None:
    """stubs/src/flash.c: a sector that reads all 0xFF is read (BLANK_READ_RATE), not erased; one
    that holds data is erased. esptool's stub model erases either way (the test above)."""
    _data, blank_end = begin_and_block(v2)
    # no erase; the blank check (8 ms) runs partly while the stub waits for the block (idle loop)
    assert 64 * PAGE - 0.001 < blank_end <= 64 * PAGE + 4 * 0x1000 / BLANK_READ_RATE + 0.001
    # the same range again, the block right after BEGIN's reply (no idle time to erase ahead in)
    _delay, status = first_reply_time(v2, op.FLASH_BEGIN, struct.pack("<IIII", 0x4000, 1, 0x4000, 0x10000))
    assert status == b"\0\0"
    block = bytes(range(256)) * 64
    first_reply_time(v2, op.FLASH_DATA, data_payload(block, 0), checksum(block))
    used_end, status = first_reply_time(v2, op.FLASH_END, struct.pack("<I", 1))
    assert status == b"\0\0"
    assert used_end == pytest.approx(4 * 0.045 + 64 * PAGE + 4 * 0x40 / BLANK_READ_RATE, abs=0.002)
    assert v2.vc.flash.read(0x10000, 0x4000) == bytes(range(256)) * 64


def test_our_stub_erases_ahead_while_it_waits_for_data(v2: Host) -> None:
    """stubs/src/stub.c's idle loop starts the region's erases while no frame is complete: with
    half a second between BEGIN and the first block, END waits only for the programs."""
    begin_and_block(v2)  # the range now holds data
    assert v2.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x4000, 1, 0x4000, 0x10000)).data[0] == 0
    v2.now += 0.5  # the host is slow to send the block (or the line is)
    block = bytes(range(256)) * 64
    first_reply_time(v2, op.FLASH_DATA, data_payload(block, 0), checksum(block))
    end_delay, status = first_reply_time(v2, op.FLASH_END, struct.pack("<I", 1))
    assert status == b"\0\0"
    assert end_delay == pytest.approx(64 * PAGE, abs=0.001)  # the four sector erases are behind it


def test_our_stub_does_not_program_pieces_of_ff(v2: Host) -> None:
    assert v2.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x4000, 1, 0x4000, 0x20000)).data[0] == 0
    block = (b"\x5a" * 64 + b"\xff" * 192) * 64  # a quarter of each page holds data
    first_reply_time(v2, op.FLASH_DATA, data_payload(block, 0), checksum(block))
    end_delay, status = first_reply_time(v2, op.FLASH_END, struct.pack("<I", 1))
    assert status == b"\0\0"
    assert 64 * PAGE / 4 - 0.001 < end_delay <= 64 * PAGE / 4 + 4 * 0x1000 / BLANK_READ_RATE + 0.001
    assert v2.vc.flash.read(0x20000, 0x4000) == block


def test_protocol_2_keeps_a_deferred_error_until_the_next_begin(v2: Host) -> None:
    good = zlib.compress(bytes(range(256)) * 256, 9)
    assert v2.one(op.FLASH_DEFL_BEGIN, struct.pack("<IIII", 0x10000, 3, 0x4000, 0x10000)).data == b"\0\0"
    junk = random.Random(1).randbytes(0x400)  # not a deflate stream: fails when inflated, after the ack
    assert v2.data_block(op.FLASH_DEFL_DATA, junk, 0).data == b"\0\0"
    assert v2.data_block(op.FLASH_DEFL_DATA, good[:100], 1).data == b"\xc7\x00"  # inflate error, later
    assert v2.one(op.FLASH_DEFL_END, struct.pack("<I", 1)).data == b"\xc7\x00"
    assert v2.one(op.SPI_FLASH_MD5, struct.pack("<IIII", 0, 0x1000, 0, 0)).data == b"\xc7\x00"
    assert v2.read_reg(0x40001000) != 0  # other commands work meanwhile
    assert v2.one(op.FLASH_DEFL_BEGIN, struct.pack("<IIII", 0x10000, 1, 0x4000, 0x10000)).data == b"\0\0"
    assert v2.data_block(op.FLASH_DEFL_DATA, good, 0).data == b"\0\0"
    assert first_reply_time(v2, op.FLASH_DEFL_END, struct.pack("<I", 1))[1] == b"\0\0"


def test_protocol_2_sends_a_window_of_read_packets_before_the_first_ack(v2: Host) -> None:
    v2.vc.flash.data[0:0x8000] = random.Random(2).randbytes(0x8000)
    wire = slip.encode(struct.pack("<BBHI", 0, op.READ_FLASH, 16, 0) + struct.pack("<IIII", 0, 0x8000, 0x1000, 3))
    frames = v2.frames(v2.raw(wire, 0.1))
    assert frames[0][:2] == b"\x01\xd2" and [len(f) for f in frames[1:]] == [0x1000] * 3  # 3 asked, none acked
    got = b"".join(frames[1:])
    while len(got) < 0x8000:
        frames = v2.frames(v2.raw(slip.encode(struct.pack("<I", len(got))), 0.1))
        got += b"".join(f for f in frames if len(f) == 0x1000)
    frames = v2.frames(v2.raw(slip.encode(struct.pack("<I", len(got))), 0.1))
    assert got == bytes(v2.vc.flash.data[0:0x8000])
    assert frames == [hashlib.md5(got).digest()]


def test_esptool_stub_keeps_one_read_packet_in_flight() -> None:
    h = make("esp32")
    esptool_stub(h)
    wire = slip.encode(struct.pack("<BBHI", 0, op.READ_FLASH, 16, 0) + struct.pack("<IIII", 0, 0x4000, 0x1000, 64))
    frames = h.frames(h.raw(wire, 0.1))
    assert [len(f) for f in frames[1:]] == [0x1000]  # PROTOCOL.md §7.3: one packet until acked


# --- baud on TCP ----------------------------------------------------------------------------------
def test_change_baudrate_changes_the_modelled_rate_of_a_tcp_client() -> None:
    import threading

    from esptk_sim.factory import make_chip
    from esptk_sim.server import bind_tcp, serve_tcp

    from ..conftest import run_esptk

    vc = make_chip("esp32", {"timing": "link"})
    sock = bind_tcp("127.0.0.1", 0)
    stop = threading.Event()
    t = threading.Thread(target=serve_tcp, args=(vc, sock, stop), daemon=True)
    t.start()
    try:
        port = sock.getsockname()[1]
        r = run_esptk("--port", f"socket://127.0.0.1:{port}", "--baud", "460800", "--no-stub", "read-mac")
        assert r.code == 0, r.err
    finally:
        stop.set()
        t.join(5)
        sock.close()
    assert vc.chip_baud == 460800 and vc.host_baud == 460800  # both directions clocked at the new rate
    assert vc.byte_time(vc.host_baud) == pytest.approx(10 / 460800)


def test_change_baudrate_changes_the_modelled_rate_of_a_pty_client() -> None:
    import os
    import threading

    from esptk_sim.factory import make_chip
    from esptk_sim.server import open_pty, serve_pty

    from ..conftest import run_esptk

    vc = make_chip("esp32", {"timing": "link"})
    master, path = open_pty()
    stop = threading.Event()
    t = threading.Thread(target=serve_pty, args=(vc, master, stop), daemon=True)
    t.start()
    try:
        r = run_esptk("--port", path, "--baud", "460800", "--no-stub", "read-mac")
        assert r.code == 0, r.err
    finally:
        stop.set()
        t.join(5)
        os.close(master)
    assert vc.chip_baud == 460800 and vc.host_baud == 460800


# --- calibration ----------------------------------------------------------------------------------
def test_esptool_stub_model_reproduces_the_public_921600_figure() -> None:
    """esptool issue #919: an ESP32 wrote 1851472 bytes (1063799 compressed) in 17.6 s at 921600 baud."""
    rnd = random.Random(1)
    size, packed_size = 1851472, 1063799
    chunk = 144  # random bytes per 256 (the rest zeros): zlib -9 packs this within 1 % of that ratio
    data = b"".join(rnd.randbytes(chunk) + bytes(256 - chunk) for _ in range(size // 256 + 1))[:size]
    packed = zlib.compress(data, 9)
    assert abs(len(packed) - packed_size) / packed_size < 0.01
    h = make("esp32", baud="921600")
    esptool_stub(h)
    h.vc.timing = dataclasses.replace(h.vc.timing, link=True, flash=True)  # timing=all from here on
    h.vc.chip_baud = 921600
    h.now = 1.0
    first_reply_time(h, op.FLASH_DEFL_BEGIN, struct.pack("<IIII", size, -(-len(packed) // 0x4000), 0x4000, 0x10000))
    total = 0.0
    for seq, i in enumerate(range(0, len(packed), 0x4000)):
        block = packed[i : i + 0x4000]
        delay, status = first_reply_time(h, op.FLASH_DEFL_DATA, data_payload(block, seq), checksum(block),
                                         step=0.002)
        assert status == b"\0\0"
        total += delay
    delay, status = first_reply_time(h, op.FLASH_DEFL_END, struct.pack("<I", 1), step=0.002)
    total += delay
    assert status == b"\0\0"
    assert total == pytest.approx(17.6, rel=0.03)
