"""The virtual chip behaves like silicon for the real esptool 5.6 and espefuse (issue 9): SFDP,
write_reg with a delay record, load-ram of a program that is not a stub, the eFuse MAC CRC, and a
chip that keeps running between two clients (--no-reset-on-connect)."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esptk.protocol import op, slip

from .conftest import COMMAND_TIMEOUT, ServeFn, Server, start_server

pytest.importorskip("esptool", reason="esptool is not installed: the peer checks need it (pip install esptool==5.6.0)")

pytestmark = [pytest.mark.peer, pytest.mark.slow]

CHIPS = pytest.mark.parametrize("chip", ["esp8266", "esp32"])
SYNC_FRAME = slip.encode(struct.pack("<BBHI", 0, op.SYNC, 36, 0) + b"\x07\x07\x12\x20" + b"\x55" * 32)


@CHIPS
@pytest.mark.parametrize("stub", [True, False], ids=["stub", "rom"])
def test_read_flash_sfdp_finds_the_signature(serve: ServeFn, chip: str, stub: bool) -> None:
    s = serve(chip, "tcp")
    out = s.esptool("read-flash-sfdp", "0", "4", stub=stub).stdout
    assert "SFDP[0..3]: 0x53 0x46 0x44 0x50" in out, out


WRITE_REG_WITH_DELAY = """
import sys
from esptool.cmds import detect_chip
esp = detect_chip(sys.argv[1], connect_mode="no-reset")
addr = int(sys.argv[2], 0)
esp.write_reg(addr, 0x5EED0001, delay_after_us=2000)
print("rom", hex(esp.read_reg(addr)))
esp = esp.run_stub()
esp.write_reg(addr + 4, 0x5EED0002, delay_after_us=2000)
print("stub", hex(esp.read_reg(addr + 4)))
"""


@CHIPS
def test_write_reg_with_a_delay_on_rom_and_stub(serve: ServeFn, chip: str) -> None:
    """esptool 5.6 has no CLI option for it: its write_reg(delay_after_us=...) sends a second record
    aimed at 0x60000078 (value 0, mask 0) in the same WRITE_REG."""
    s = serve(chip, "tcp")
    res = subprocess.run([sys.executable, "-c", WRITE_REG_WITH_DELAY, s.endpoint, "0x3FFE8100"],
                         capture_output=True, text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "rom 0x5eed0001" in res.stdout and "stub 0x5eed0002" in res.stdout


def ram_image(chip: str, addr: int, code: bytes) -> bytes:
    """A one-segment image (PROTOCOL.md 9.1-9.6; ESP32: extended header, no digest)."""
    out = struct.pack("<BBBBI", 0xE9, 1, 2, 0x20, addr)
    if chip == "esp32":
        out += bytes([0xEE, 0, 0, 0]) + struct.pack("<HBHH", 0, 0, 0, 0xFFFF) + bytes(4) + b"\x00"
    out += struct.pack("<II", addr, len(code)) + code
    chk = 0xEF
    for b in code:
        chk ^= b
    return out + bytes(15 - len(out) % 16) + bytes([chk])


def raw_exchange(endpoint: str, data: bytes, wait: float = 1.0) -> bytes:
    host, port = endpoint.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(data)
        conn.settimeout(0.2)
        got, deadline = b"", time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                break
            got += chunk
        return got


@CHIPS
def test_load_ram_of_a_program_that_is_not_a_stub(chip: str, tmp_path: Path) -> None:
    s = start_server(chip, "tcp", tmp_path / "flash.bin", "--no-reset-on-connect")
    try:
        addr = 0x40100000 if chip == "esp8266" else 0x40080000
        image = tmp_path / "hello.bin"
        image.write_bytes(ram_image(chip, addr, b"\x06\xff\xff\x00" * 8))  # a jump-to-self loop
        out = s.esptool("load-ram", str(image), stub=False).stdout
        assert f"executing at 0x{addr:08x}" in out
        after = raw_exchange(s.endpoint, SYNC_FRAME)  # the same running chip
        assert b"OHAI" not in after and after == b""  # it runs the program: no loader answers
    finally:
        assert s.stop() == 0
    err = s.proc.stderr.read() if s.proc.stderr else ""
    assert "unknown program" in err and f"0x{addr:08x}" in err


RUN_STUB_AND_LEAVE = """
import sys
from esptool.cmds import detect_chip
esp = detect_chip(sys.argv[1], connect_mode="no-reset").run_stub()
esp._port.close()  # leave the stub running
"""


def sync_frames(endpoint: str) -> list[bytes]:
    return [f for f in slip.SlipDecoder().feed(raw_exchange(endpoint, SYNC_FRAME)) if f[:2] == b"\x01\x08"]


@pytest.mark.parametrize("reset", [False, True], ids=["no-reset-on-connect", "reset-on-connect"])
def test_a_second_client_finds_the_running_stub_only_without_reset_on_connect(tmp_path: Path, reset: bool) -> None:
    s = start_server("esp32", "tcp", tmp_path / "flash.bin", "--reset-on-connect" if reset else "--no-reset-on-connect")
    try:
        res = subprocess.run([sys.executable, "-c", RUN_STUB_AND_LEAVE, s.endpoint], capture_output=True,
                             text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, res.stdout + res.stderr
        sync = sync_frames(s.endpoint)
    finally:
        assert s.stop() == 0
    assert len(sync) == 8
    if reset:  # a freshly reset chip: the ROM's replies, 4 status bytes and a non-zero value
        assert all(len(f) == 8 + 4 and f[4:8] != bytes(4) for f in sync)
    else:  # esptool's stub: value 0, 2 status bytes
        assert all(f[4:] == bytes(6) for f in sync)


@pytest.mark.parametrize("mac,crc", [("24:6f:28:7a:d8:84", "0x3e"), ("24:0a:c4:12:34:56", "0xf5")])
def test_espefuse_summary_reports_a_valid_mac_crc(tmp_path: Path, mac: str, crc: str) -> None:
    s = start_server("esp32", "tcp", tmp_path / "flash.bin", "--mac", mac)
    try:
        res = subprocess.run([sys.executable, "-m", "espefuse", "--chip", "esp32", "--port", s.endpoint,
                              "--before", "no-reset", "summary"], capture_output=True, text=True,
                             timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
    finally:
        assert s.stop() == 0
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{mac} (CRC {crc} OK)" in res.stdout, res.stdout
    assert "invalid" not in res.stdout


# --- esptool 2.8 from PyPI: a second, old client -------------------------------------------------
@pytest.fixture(scope="session")
def esptool28(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with esptool 2.8 (made once per session); skipped if PyPI cannot provide it."""
    venv = tmp_path_factory.mktemp("esptool28")
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
    if made.returncode != 0:
        pytest.skip(f"cannot make a venv for esptool 2.8: {made.stderr.strip()[-200:]}")
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "esptool==2.8"],
                         capture_output=True, text=True, timeout=600)
    if pip.returncode != 0:
        pytest.skip(f"pip install esptool==2.8 failed: {pip.stderr.strip()[-300:]}")
    return venv / "bin" / "esptool.py"


@CHIPS
@pytest.mark.parametrize("link", ["tcp", "pty"])
@pytest.mark.parametrize("stub", [True, False], ids=["stub", "rom"])
def test_esptool_28_detects_the_chip(esptool28: Path, serve: ServeFn, chip: str, link: str, stub: bool) -> None:
    s: Server = serve(chip, link)
    cmd = [str(esptool28), "--port", s.endpoint, "--before", "no_reset", "--after", "no_reset"]
    cmd += [] if stub else ["--no-stub"]
    res = subprocess.run([*cmd, "flash_id"], capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"Detecting chip type... {chip.upper()}" in res.stdout
    assert "Manufacturer: ef" in res.stdout and "Device: 4016" in res.stdout
    if stub:
        assert "Stub running..." in res.stdout
