"""Timing model, fault model, NOR flash, MAC encoding and option checks."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from esptk.errors import UsageError
from esptk.protocol import op, slip
from esptk.simchip import flash_size_from_id
from esptk_sim.nor import NorFlash
from esptk_sim.options import parse_options, parse_url

from .conftest import SYNC, Host, make

SYNC_WIRE = slip.encode(struct.pack("<BBHI", 0, op.SYNC, 36, 0) + SYNC)


# --- timing -----------------------------------------------------------------------------------
def test_line_rate_and_latency_delay_the_answer() -> None:
    h = make("esp8266", timing="1", latency_ms="4")
    assert h.raw(SYNC_WIRE) == b""  # nothing is instant
    byte = 10 / 115200
    first_done = 0.004 + 46 * byte + 12 * byte + 0.004  # latency, 46 bytes in, 12 out, latency
    assert h.wait(first_done - 0.0005) == b""
    assert h.wait(0.001).count(b"\xc0\x01\x08") == 1
    assert h.wait(1.0).count(b"\xc0\x01\x08") == 7


def test_rom_erase_takes_nor_time() -> None:
    h = make("esp32", timing="1")
    attach = h.raw(slip.encode(struct.pack("<BBHI", 0, op.SPI_ATTACH, 8, 0) + bytes(8)), 0.1)
    assert h.frames(attach)[0][8:] == bytes(4)
    wire = slip.encode(struct.pack("<BBHI", 0, op.FLASH_BEGIN, 16, 0) + struct.pack("<IIII", 0x10000, 64, 0x400, 0))
    assert h.raw(wire, 0.140) == b""  # a 64 KiB block erase takes ~150 ms
    assert h.frames(h.wait(0.020))[0][:2] == b"\x01\x02"


# --- faults -----------------------------------------------------------------------------------
def transcript(**options: str) -> bytes:
    h = make("esp32", **options)
    out = b""
    for _ in range(5):
        out += h.raw(SYNC_WIRE)
    return out


def test_faults_are_deterministic_from_the_seed() -> None:
    clean = transcript()
    a = transcript(corrupt_rate="0.02", drop_rate="0.02", seed="7")
    assert a == transcript(corrupt_rate="0.02", drop_rate="0.02", seed="7")
    assert a != clean
    assert a != transcript(corrupt_rate="0.02", drop_rate="0.02", seed="8")


def test_drop_and_corrupt_at_an_offset() -> None:
    clean = transcript()
    dropped = transcript(drop_at="5")
    assert dropped == clean[:5] + clean[6:]
    bad = transcript(corrupt_at="5")
    assert len(bad) == len(clean) and bad[5] != clean[5] and bad[:5] + bad[6:] == clean[:5] + clean[6:]


def test_rx_faults_damage_what_the_chip_receives() -> None:
    h = make("esp32", corrupt_at="20", fault_dir="rx")
    assert h.raw(SYNC_WIRE) == b""  # a damaged SYNC draws no answer
    assert len(h.sync()) == 8  # the next one is clean


def test_delay_at_holds_back_the_chunk_with_that_byte() -> None:
    h = make("esp32", delay_at="20", delay_ms="200")  # byte 20: in the second 14-byte SYNC reply
    out = h.raw(SYNC_WIRE)
    assert out.count(b"\xc0\x01\x08") == 1
    assert h.wait(0.25).count(b"\xc0\x01\x08") == 7


def test_reset_mid_transfer_prints_the_boot_log_and_forgets_the_request() -> None:
    h = make("esp32", reset_at="20")
    out = h.raw(SYNC_WIRE)
    assert b"waiting for download" in out and b"\xc0\x01\x08" not in out
    assert len(h.sync()) == 8  # a fresh ROM answers again


def test_hang_stops_all_answers() -> None:
    h = make("esp32", hang_at="1")
    assert h.raw(SYNC_WIRE) == b""
    assert h.sync() == []


# --- NOR flash --------------------------------------------------------------------------------
def test_nor_program_only_clears_bits_and_erase_sets_ff() -> None:
    f = NorFlash(0x20000)
    f.program(0x10, b"\xf0\x0f")
    f.program(0x10, b"\x3c\x3c")
    assert f.read(0x10, 2) == b"\x30\x0c"
    cost = f.erase_range(0xF000, 0x11000)  # 1 sector, then 1 block
    assert f.read(0x10, 2) == b"\x30\x0c"
    assert cost == pytest.approx(0.045 + 0.150)
    f.erase_sector(0x0FFF)
    assert f.read(0, 0x1000) == b"\xff" * 0x1000
    with pytest.raises(ValueError):
        f.program(0x1FFFF, b"\x00\x00")


# --- chip facts round trip through the host decoding ----------------------------------------------
class Regs:
    def __init__(self, h: Host) -> None:
        self.h = h

    def read_reg(self, addr: int) -> int:
        return self.h.vc.mem.read_word(addr)

    def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF, delay_us: int = 0) -> None:
        self.h.vc.mem.write_word(addr, value, mask)


@pytest.mark.parametrize("chip,mac", [
    ("esp8266", "18:fe:34:01:02:03"), ("esp8266", "ac:d0:74:aa:bb:cc"), ("esp8266", "5c:cf:7f:fe:dc:ba"),
    ("esp32", "24:0a:c4:12:34:56"), ("esp32", "fe:ff:00:01:80:7f"),
])
def test_configured_mac_decodes_back(registry: Any, chip: str, mac: str) -> None:
    h = make(chip, mac=mac)
    spec = registry.chip(chip)
    got = spec.read_mac(Regs(h))
    assert ":".join(f"{b:02x}" for b in got) == mac
    assert spec.crystal_mhz(Regs(h), 115200)[0] == (26 if chip == "esp8266" else 40)
    if chip == "esp8266":
        assert spec.describe(Regs(h)) == "ESP8266EX"
        assert spec.read_chip_id(Regs(h)) & 0xFFFFFF == int(mac.replace(":", "")[6:], 16)


# --- options ----------------------------------------------------------------------------------
@pytest.mark.parametrize("given,fragment", [
    ({"mac": "24:0a:c4:12:34"}, "bad MAC"),
    ({"flash_id": "0x99"}, "unknown capacity"),
    ({"flash_size": "3MB"}, "bad flash size"),
    ({"colour": "red"}, "unknown sim option"),
    ({"drop_rate": "2"}, "out of range"),
    ({"fault_dir": "up"}, "fault_dir"),
])
def test_bad_options_are_usage_errors(given: dict[str, str], fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment) as e:
        parse_options("esp32", given)
    assert e.value.hint or "sim option" in e.value.message or fragment


def test_flash_size_follows_the_jedec_capacity_byte() -> None:
    assert parse_options("esp32", {"flash_id": "0x1640ef"}).flash_size == 4 << 20
    assert parse_options("esp32", {"flash_id": "0x1840ef"}).flash_size == 16 << 20
    assert parse_options("esp32", {"flash_size": "2MB"}).flash_id == 0x1540EF
    assert flash_size_from_id(0x1540EF) == 2 << 20 and flash_size_from_id(0x0A001F + 0x600) == 2 << 20


def test_sim_url() -> None:
    assert parse_url("sim://esp32?mac=24:0a:c4:00:00:01&flash_size=4MB") == (
        "esp32", {"mac": "24:0a:c4:00:00:01", "flash_size": "4MB"})
    with pytest.raises(UsageError):
        parse_url("sim://")


def test_unknown_chip_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="esp99"):
        make("esp99")
