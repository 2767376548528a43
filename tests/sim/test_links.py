"""The sim:// transport (control lines, baud, flash file) and the ``esptk sim serve`` command."""

from __future__ import annotations

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from esptk.protocol import op, slip
from esptk.transport import Capability, Transport
from esptk_sim.transport import SimTransport

from .conftest import SYNC, checksum

SYNC_WIRE = slip.encode(struct.pack("<BBHI", 0, op.SYNC, 36, 0) + SYNC)


def read_all(t: SimTransport, quiet: float = 0.15) -> bytes:
    out = b""
    while chunk := t.read(4096, quiet):
        out += chunk
    return out


def classic_reset(t: SimTransport) -> None:
    t.set_lines(dtr=False)
    t.set_lines(rts=True)  # EN low
    time.sleep(0.1)
    t.set_lines(dtr=True)
    t.set_lines(rts=False)  # EN high with GPIO0 low
    time.sleep(0.05)
    t.set_lines(dtr=False)


def test_sim_transport_is_registered(registry: Any) -> None:
    assert registry.transport_for("sim://esp32") is SimTransport
    t = SimTransport.from_url("sim://esp32", 115200)
    assert isinstance(t, Transport)
    assert t.capabilities & Capability.CONTROL_LINES and t.capabilities & Capability.SET_BAUD


def test_classic_reset_enters_download_mode_and_prints_the_boot_log() -> None:
    t = SimTransport.from_url("sim://esp32", 115200)
    t.open()
    try:
        t.flush_input()
        classic_reset(t)
        text = read_all(t)
        assert b"boot:0x3 (DOWNLOAD_BOOT" in text and b"waiting for download" in text
        t.write(SYNC_WIRE)
        assert read_all(t).count(b"\xc0\x01\x08\x04\x00") == 8
    finally:
        t.close()


def test_hard_reset_boots_the_app_which_ignores_the_loader_protocol() -> None:
    t = SimTransport.from_url("sim://esp32", 115200)
    t.open()
    try:
        t.set_lines(dtr=False, rts=True)
        time.sleep(0.05)
        t.set_lines(rts=False)
        assert b"boot:0x13 (SPI_FAST_FLASH_BOOT)" in read_all(t)
        t.write(SYNC_WIRE)
        assert t.read(100, 0.3) == b""
    finally:
        t.close()


def test_flash_file_persists_between_opens(tmp_path: Path) -> None:
    path = tmp_path / "flash.bin"
    url = f"sim://esp32?flash_file={path}&flash_size=1MB"
    block = bytes(range(256)) * 4
    t = SimTransport.from_url(url, 115200)
    t.open()
    for opcode, payload, chk in (
        (op.SPI_ATTACH, bytes(8), 0),
        (op.FLASH_BEGIN, struct.pack("<IIII", 0x400, 1, 0x400, 0x3000), 0),
        (op.FLASH_DATA, struct.pack("<IIII", 0x400, 0, 0, 0) + block, checksum(block)),
    ):
        t.write(slip.encode(struct.pack("<BBHI", 0, opcode, len(payload), chk) + payload))
    assert read_all(t).count(b"\xc0\x01") >= 3
    t.close()
    assert path.stat().st_size == 1 << 20 and path.read_bytes()[0x3000:0x3400] == block
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".flash-")]  # no temp file left
    t = SimTransport.from_url(url, 115200)
    t.open()
    assert t.chip is not None and bytes(t.chip.flash.data[0x3000:0x3400]) == block
    t.close()


# --- esptk sim serve ----------------------------------------------------------------------------
def serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "esptk", "sim", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, "NO_COLOR": "1"})


def endpoint(p: subprocess.Popen[str]) -> str:
    assert p.stdout is not None
    ready, _, _ = select.select([p.stdout], [], [], 20)
    assert ready, "no endpoint line"
    return p.stdout.readline().strip()


def stop(p: subprocess.Popen[str]) -> int:
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=10)


def recv_until(read: Callable[[], bytes], count: int, timeout: float = 5.0) -> bytes:
    out, deadline = b"", time.monotonic() + timeout
    while out.count(b"\xc0\x01\x08") < count and time.monotonic() < deadline:
        out += read()
    return out


def test_serve_tcp_answers_each_client_and_stops_cleanly() -> None:
    p = serve("--chip", "esp8266", "--tcp", "127.0.0.1:0")
    try:
        url = endpoint(p)
        assert url.startswith("socket://127.0.0.1:")
        host, port = url[len("socket://"):].rsplit(":", 1)
        for _ in range(2):  # clients one after another
            with socket.create_connection((host, int(port)), timeout=5) as s:
                s.sendall(SYNC_WIRE)
                got = recv_until(partial(s.recv, 4096), 8)
                assert got.count(bytes.fromhex("c0 01 08 02 00 07 07 12 20 00 00 c0")) == 8
    finally:
        assert stop(p) == 0


def test_serve_pty_answers_the_opener() -> None:
    p = serve("--chip", "esp32", "--pty")
    try:
        path = endpoint(p)
        assert path.startswith("/dev/")
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, SYNC_WIRE)

            def read() -> bytes:
                r, _, _ = select.select([fd], [], [], 0.5)
                return os.read(fd, 4096) if r else b""

            assert recv_until(read, 8).count(b"\xc0\x01\x08\x04\x00") == 8
        finally:
            os.close(fd)
    finally:
        assert stop(p) == 0


@pytest.mark.parametrize("reset", [True, False], ids=["reset-on-connect", "no-reset-on-connect"])
def test_serve_pty_second_opener_finds_the_chip_as_the_first_left_it(reset: bool) -> None:
    p = serve("--chip", "esp32", "--pty", "--reset-on-connect" if reset else "--no-reset-on-connect")
    crash = slip.encode(struct.pack("<BBHI", 0, op.READ_REG, 4, 0) + struct.pack("<I", 0))  # nothing at 0
    try:
        path = endpoint(p)
        replies = []
        for wire in (crash, SYNC_WIRE):  # two openers, one after another
            fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
            try:
                os.write(fd, wire)

                def read(fd: int = fd) -> bytes:
                    r, _, _ = select.select([fd], [], [], 0.5)
                    return os.read(fd, 4096) if r else b""

                replies.append(recv_until(read, 8 if wire is SYNC_WIRE else 1, timeout=1.5))
            finally:
                os.close(fd)
            time.sleep(0.3)  # the server sees the hang-up
        assert replies[0] == b""  # the loader took an exception
        assert replies[1].count(b"\xc0\x01\x08\x04\x00") == (8 if reset else 0)
    finally:
        assert stop(p) == 0
    assert "exception" in (p.stderr.read() if p.stderr else "")


@pytest.mark.parametrize("args,fragment", [
    (("--chip", "esp32", "--tcp", "127.0.0.1:0", "--mac", "24:0a:c4"), "bad MAC"),
    (("--chip", "esp99", "--tcp", "127.0.0.1:0"), "esp99"),
    (("--chip", "esp32", "--tcp", "0.0.0.0:0"), "refusing"),
    (("--chip", "esp32"), "exactly one"),
])
def test_serve_bad_input_is_one_clear_line(args: tuple[str, ...], fragment: str) -> None:
    p = serve(*args)
    _out, err = p.communicate(timeout=30)
    assert p.returncode not in (0, None)
    assert "Traceback" not in err and fragment in err
    assert err.splitlines()[0].startswith("error:")


def test_serve_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        p = serve("--chip", "esp32", "--tcp", f"127.0.0.1:{port}")
        _out, err = p.communicate(timeout=30)
    assert p.returncode != 0 and "already in use" in err and "Traceback" not in err


def test_flash_file_is_created_even_when_nothing_was_written(tmp_path: Path) -> None:
    path = tmp_path / "new.bin"
    t = SimTransport.from_url(f"sim://esp8266?flash_file={path}&flash_size=512KB", 115200)
    t.open()
    t.close()
    assert path.read_bytes() == b"\xff" * 512 * 1024
    assert path.stat().st_mode & 0o077 == 0o066 & ~_umask()


def _umask() -> int:
    u = os.umask(0)
    os.umask(u)
    return u


@pytest.mark.parametrize("name,download", [("CLASSIC", True), ("TIGHT", True), ("CLASSIC_SLOW", True),
                                           ("HARD_RESET", False)])
def test_esptk_reset_sequences_on_the_virtual_board(name: str, download: bool) -> None:
    from esptk import reset

    t = SimTransport.from_url("sim://esp8266", 74880)  # at 74880 the ESP8266 boot log is readable
    t.open()
    try:
        t.flush_input()
        getattr(reset, name).run(lambda d, r: t.set_lines(dtr=d, rts=r))
        text = read_all(t)
        assert (b"boot mode:(1,7)" in text) == download and (b"boot mode:(3,6)" in text) != download
        t.write(SYNC_WIRE)
        assert (read_all(t).count(b"\xc0\x01\x08\x02\x00") == 8) == download
    finally:
        t.close()
