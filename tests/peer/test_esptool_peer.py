"""The real esptool 5.6 accepts the virtual chip: both chips, ROM (--no-stub) and esptool's own stub,
over TCP and over a pty. esptool must exit 0 and report what the virtual chip was configured with."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import ServeFn, Server, start_server

pytest.importorskip("esptool", reason="esptool is not installed: the peer checks need it (pip install esptool==5.6.0)")

pytestmark = [pytest.mark.peer, pytest.mark.slow]

CONFIG: dict[str, dict[str, Any]] = {
    "esp32": {"mac": "24:0a:c4:ab:cd:ef", "flash_id": "0x1740ef", "size": "8MB", "device": "4017",
              "manufacturer": "ef", "efuse_addr": 0x3FF5A004, "efuse_word": 0xC4ABCDEF, "ram": 0x3FFE8000},
    "esp8266": {"mac": "5c:cf:7f:01:02:03", "flash_id": "0x1540c8", "size": "2MB", "device": "4015",
                "manufacturer": "c8", "efuse_addr": 0x3FF00054, "efuse_word": 0x00000102, "ram": 0x3FFE8000},
}
STUB = pytest.mark.parametrize("stub", [True, False], ids=["stub", "rom"])
CHIPS = pytest.mark.parametrize("chip", ["esp8266", "esp32"])
LINKS = pytest.mark.parametrize("link", ["tcp", "pty"])


def server(serve: ServeFn, chip: str, link: str) -> Server:
    c = CONFIG[chip]
    return serve(chip, link, "--mac", c["mac"], "--flash-id", c["flash_id"])


def rom_lacks(chip: str, stub: bool) -> bool:
    """The ESP8266 ROM cannot read or hash flash: esptool refuses those commands there."""
    return chip == "esp8266" and not stub


def data(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@CHIPS
@STUB
@LINKS
def test_identity(serve: ServeFn, chip: str, stub: bool, link: str) -> None:
    s, c = server(serve, chip, link), CONFIG[chip]
    out = s.esptool("flash-id", stub=stub).stdout
    assert f"MAC:                {c['mac']}" in out  # the connect banner
    assert f"Manufacturer: {c['manufacturer']}" in out
    assert f"Device: {c['device']}" in out
    assert f"Detected flash size: {c['size']}" in out
    if stub:
        assert "Stub flasher running" in out
    if chip == "esp32":
        assert "Crystal frequency:  40MHz" in out
        assert "ESP32-D0WD-V3 (revision v3.0)" in out
    else:
        assert "Crystal frequency:  26MHz" in out and "ESP8266EX" in out
    if link == "pty":
        return  # the commands below are link-independent
    out = s.esptool("read-mac", stub=stub).stdout
    assert out.count(f"MAC:                {c['mac']}") == 2  # banner and the command's own line
    if chip == "esp8266":
        out = s.esptool("chip-id", stub=stub).stdout
        assert "Chip ID: 0x00010203" in out  # from the configured MAC's last three bytes


@CHIPS
@STUB
def test_memory(serve: ServeFn, chip: str, stub: bool) -> None:
    s, c = server(serve, chip, "tcp"), CONFIG[chip]
    out = s.esptool("read-mem", hex(c["efuse_addr"]), stub=stub).stdout
    assert f"{c['efuse_addr']:#010x} = {c['efuse_word']:#010x}" in out
    value = 0x5A17C0DE if stub else 0x0BADF00D
    s.esptool("write-mem", hex(c["ram"]), hex(value), stub=stub)
    s.esptool("write-mem", hex(c["ram"] + 4), "0x12345678", "0x0000ff00", stub=stub)  # masked write
    dump = Path(s.flash_file.parent / f"dump-{stub}.bin")
    s.esptool("dump-mem", hex(c["ram"]), "16", str(dump), stub=stub)
    got = dump.read_bytes()
    assert got[:4] == value.to_bytes(4, "little")
    assert got[5] == 0x56 and got[4] == 0 and got[6] == 0


# (no ESP8266 ROM + --compress: that ROM has no compressed writes and esptool refuses by itself)
WRITES = [(c, s, z) for c in ("esp8266", "esp32") for s in (True, False) for z in ("--compress", "--no-compress")
          if not (c == "esp8266" and not s and z == "--compress")]


@pytest.mark.parametrize("chip,stub,compress", WRITES)
def test_write_verify_read(serve: ServeFn, tmp_path: Path, chip: str, stub: bool, compress: str) -> None:
    s = server(serve, chip, "tcp")
    offset = 0x20000 + (0x10000 if compress == "--compress" else 0) + (0x40000 if stub else 0)
    payload = data(0x5000 + 0x123 * 4, seed=offset) + bytes(range(256)) * 16 * 4  # half compressible
    src = tmp_path / "image.bin"
    src.write_bytes(payload)
    out = s.esptool("write-flash", compress, hex(offset), str(src), stub=stub).stdout
    assert f"Wrote {len(payload)} bytes" in out
    assert ("compressed)" in out) == (compress == "--compress")
    if rom_lacks(chip, stub):
        s.esptool("verify-flash", hex(offset), str(src))  # check what the ROM wrote through the stub
        return
    assert "Hash of data verified" in out
    s.esptool("verify-flash", hex(offset), str(src), stub=stub)
    back = tmp_path / "back.bin"
    s.esptool("read-flash", hex(offset), hex(len(payload)), str(back), stub=stub)
    assert back.read_bytes() == payload
    if compress == "--no-compress":
        s.esptool("erase-region", hex(offset), "0x1000", stub=stub)
        s.esptool("read-flash", hex(offset), "0x1100", str(back), stub=stub)
        assert back.read_bytes() == b"\xff" * 0x1000 + payload[0x1000:0x1100]


@CHIPS
def test_erase_flash_with_stub(serve: ServeFn, tmp_path: Path, chip: str) -> None:
    s = server(serve, chip, "tcp")
    src = tmp_path / "x.bin"
    src.write_bytes(data(0x2000, seed=7))
    s.esptool("write-flash", "0x3000", str(src))
    out = s.esptool("erase-flash").stdout
    assert "Flash memory erased successfully" in out or "erased" in out.lower()
    back = tmp_path / "back.bin"
    s.esptool("read-flash", "0x3000", "0x2000", str(back))
    assert back.read_bytes() == b"\xff" * 0x2000


@CHIPS
@STUB
def test_write_and_read_over_pty(serve: ServeFn, tmp_path: Path, chip: str, stub: bool) -> None:
    s = server(serve, chip, "pty")
    payload = data(0x5000, seed=11)
    src = tmp_path / "p.bin"
    src.write_bytes(payload)
    out = s.esptool("--baud", "460800", "write-flash", "0x8000", str(src), stub=stub).stdout
    if not rom_lacks(chip, stub):
        assert "Changing baud rate to 460800" in out  # CHANGE_BAUDRATE on a pty that really changes rate
    back = tmp_path / "back.bin"
    s.esptool("read-flash", "0x8000", hex(len(payload)), str(back), stub=stub or rom_lacks(chip, stub))
    assert back.read_bytes() == payload


def test_esp8266_rom_write_keeps_neighbours(serve: ServeFn, tmp_path: Path) -> None:
    """esptool's erase-size workaround against the ROM's over-erase: neighbouring data survives.

    (An even sector count: for odd counts inside the first 64 KiB block the inferred ROM rule of
    PROTOCOL.md 2.5 erases one sector more than the workaround asks for.)"""
    s = server(serve, "esp8266", "tcp")
    base = data(0x20000, seed=3)
    (tmp_path / "base.bin").write_bytes(base)
    s.esptool("write-flash", "0x100000", str(tmp_path / "base.bin"))
    patch = data(0x4000, seed=4)
    (tmp_path / "patch.bin").write_bytes(patch)
    s.esptool("write-flash", "0x111000", str(tmp_path / "patch.bin"), stub=False)
    back = tmp_path / "back.bin"
    s.esptool("read-flash", "0x100000", "0x20000", str(back))
    assert back.read_bytes() == base[:0x11000] + patch + base[0x15000:]


def test_flash_file_persists_across_servers(tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    payload = data(0x1800, seed=5)
    (tmp_path / "in.bin").write_bytes(payload)
    s = start_server("esp32", "tcp", flash)
    try:
        s.esptool("write-flash", "0x9000", str(tmp_path / "in.bin"))
    finally:
        assert s.stop() == 0
    assert flash.read_bytes()[0x9000:0x9000 + len(payload)] == payload
    assert os.path.getsize(flash) == 4 * 1024 * 1024
    s = start_server("esp32", "tcp", flash)
    try:
        out = s.esptool("verify-flash", "0x9000", str(tmp_path / "in.bin")).stdout
        assert re.search(r"verif", out, re.I)
    finally:
        assert s.stop() == 0


def test_a_chip_that_stops_answering_makes_esptool_fail_cleanly(serve: ServeFn) -> None:
    s = serve("esp32", "tcp", "--hang-at", "1")  # silent from the first byte on
    res = s.esptool("--connect-attempts", "1", "read-mac", check=False)
    assert res.returncode == 2 and "A fatal error occurred" in res.stdout + res.stderr


@CHIPS
def test_default_reset_options_work_on_a_pty_without_modem_lines(serve: ServeFn, chip: str) -> None:
    s = server(serve, chip, "pty")
    out = s.esptool("read-mac", resets=True).stdout  # esptool's defaults: default-reset, hard-reset
    assert CONFIG[chip]["mac"] in out


@pytest.mark.parametrize("chip,stub", [("esp8266", True), ("esp32", False)], ids=["esp8266-stub", "esp32-rom"])
def test_esptool_copes_with_the_timing_model(serve: ServeFn, tmp_path: Path, chip: str, stub: bool) -> None:
    """Line rate at 115200, a 4 ms USB bridge, real erase/program times, the stub's 54 ms greeting."""
    s = serve(chip, "tcp", "--timing", "--latency-ms", "4")
    payload = data(0x1800, seed=9) + b"\x00" * 0x2800
    (tmp_path / "t.bin").write_bytes(payload)
    out = s.esptool("write-flash", "0x11000", str(tmp_path / "t.bin"), stub=stub).stdout
    assert f"Wrote {len(payload)} bytes" in out


@CHIPS
def test_esptool_detects_the_chip(serve: ServeFn, chip: str) -> None:
    """Without --chip esptool asks GET_SECURITY_INFO twice (refused by both ROMs), then reads the magic."""
    out = server(serve, chip, "tcp").esptool("read-mac", stub=False, detect=True).stdout
    assert "Detecting chip type" in out and f"Connected to {chip.upper()} on" in out
