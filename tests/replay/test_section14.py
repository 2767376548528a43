"""PROTOCOL.md section 14, replayed: every row of what real chips sent, asserted on the virtual chip.

The byte sequences come from public ``--trace`` logs of real ESP8266 and ESP32 boards (quoted in the
fact sheet); each test names its row. Only the virtual chip is under test: no host code runs.
"""

from __future__ import annotations

import struct

import pytest

from esptk.protocol import op, slip

from ..sim.conftest import SYNC, Host, make
from ..sim.test_fidelity import attached, spi_read


def stub_of(chip: str, **options: str) -> Host:
    h = make(chip, **options)
    assert h.start_stub().endswith(b"\xc0OHAI\xc0")
    return h


def test_row_status_bytes() -> None:
    """ESP8266 ROM and stub: size field 2, two status bytes. ESP32 ROM: four. ESP32 stub: two."""
    for h, size in ((make("esp8266"), 2), (stub_of("esp8266"), 2), (make("esp32"), 4), (stub_of("esp32"), 2)):
        r = h.one(op.READ_REG, struct.pack("<I", 0x40001000))
        assert len(r.data) == size and r.data == bytes(size)


def test_row_chip_detect_read() -> None:
    assert make("esp8266").read_reg(0x40001000) == 0xFFF0C101
    assert make("esp32").read_reg(0x40001000) == 0x00F01D83


def test_row_esp8266_sync_reply() -> None:
    h = make("esp8266")
    wire = h.raw(slip.encode(struct.pack("<BBHI", 0, op.SYNC, 36, 0) + SYNC))
    assert h.frames(wire)[0] == bytes.fromhex("01 08 02 00 07 07 12 20 00 00")


def test_row_esp32_sync_reply_value() -> None:
    assert all(r.value != 0 for r in make("esp32").sync())


def test_row_repeated_sync_replies() -> None:
    """One SYNC draws a run of 8 identical replies; leftovers come before a later command's reply."""
    h = make("esp32")
    replies = h.sync()
    assert len(replies) == 8 and len({(r.op, r.value, r.data) for r in replies}) == 1


def test_row_value_field_of_rom_replies() -> None:
    """Every ROM reply other than READ_REG repeats the value of the previous READ_REG; stubs send 0."""
    h = make("esp32", mac="24:6f:28:7a:d8:84")
    assert h.one(op.SPI_ATTACH, bytes(8)).value == 0x733  # before any READ_REG
    assert h.one(op.CHANGE_BAUDRATE, struct.pack("<II", 115200, 0)).value == 0x733
    mac_word = h.read_reg(0x3FF5A004)
    assert h.one(op.MEM_BEGIN, struct.pack("<IIII", 4, 1, 0x1800, 0x3FFAE000)).value == mac_word
    h8 = make("esp8266", mac="18:fe:34:a1:b2:00")
    assert h8.read_reg(0x3FF00050) == 0x00840D8E
    reply = h8.send(op.MEM_END, struct.pack("<II", 1, 0))
    assert reply[0].value == 0x00840D8E
    assert stub_of("esp32").one(op.SPI_ATTACH, bytes(4)).value == 0


def test_row_stub_greeting() -> None:
    """OHAI in a SLIP frame of its own, about 54 ms after the MEM_END reply (ESP8266)."""
    h = make("esp8266", timing="1")
    wire = h.start_stub()
    assert wire.endswith(bytes.fromhex("c0 4f 48 41 49 c0"))
    h2 = make("esp8266", timing="1")
    from ..sim.conftest import own_stub

    image = own_stub("esp8266")
    h2.load_program([(image.text_start, image.text), (image.data_start, image.data)], image.entry, dt=0.0)
    h2.wait(0.005)  # MEM_END's reply has left by now
    assert h2.wait(0.040) == b""
    assert h2.wait(0.020).endswith(b"OHAI\xc0")


def test_row_noise_a_host_must_survive() -> None:
    """Boot text at another baud before sync, and a stray 0x20 after an ESP32 CHANGE_BAUDRATE reply."""
    h = make("esp8266")
    h.vc.reset("poweron", download=True, at=h.now)
    text = h.wait(0.1)
    assert text and b"ets Jan" not in text  # 74880-baud boot text read at 115200: garbage
    h32 = make("esp32")
    wire = h32.raw(slip.encode(struct.pack("<BBHI", 0, op.CHANGE_BAUDRATE, 8, 0) + struct.pack("<II", 460800, 0)))
    assert wire.endswith(b"\xc0\x20")


@pytest.mark.parametrize("loader", ["rom", "stub"])
def test_row_esp32_peripheral_address_views(loader: str) -> None:
    h = make("esp32", mac="24:6f:28:7a:d8:84") if loader == "rom" else stub_of("esp32", mac="24:6f:28:7a:d8:84")
    r = h.one(op.READ_REG, struct.pack("<I", 0x60000078))
    assert r.data[0] == 0 and r.value == 0x15122500
    assert h.read_reg(0x6001A004) == 0x287AD884  # the MAC low word
    assert h.read_reg(0x6001A008) == 0x003E246F  # MAC high bytes, CRC8 in bits 16-23
    assert [h.read_reg(a) for a in (0x6001A07C, 0x6001A080, 0x6001A084)] == [0, 0, 0]  # blank BLOCK3
    delay = struct.pack("<IIII", 0x3FFAE000, 7, 0xFFFFFFFF, 0) + struct.pack("<IIII", 0x60000078, 0, 0, 1000)
    assert h.one(op.WRITE_REG, delay).data[0] == 0  # esptool 5's delay record


def test_row_uart_date_register_values() -> None:
    assert make("esp8266").read_reg(0x60000078) == 0x00062000
    h = make("esp32")
    assert h.read_reg(0x60000078) == h.read_reg(0x3FF40078) == 0x15122500


@pytest.mark.parametrize("loader", ["rom", "stub"])
def test_row_read_reg_write_reg_address_checks(loader: str) -> None:
    """No address checks: ESP8266 0x50000000 and 0x400C0000 read and write; where nothing answers at
    all, the loader stops answering until reset (the fact sheet's likely case, chosen here)."""
    h = make("esp8266") if loader == "rom" else stub_of("esp8266")
    for addr in (0x50000000, 0x400C0000):
        assert h.write_reg(addr, 0x600DF00D).data[0] == 0
        assert h.read_reg(addr) == 0x600DF00D
    assert h.send(op.READ_REG, struct.pack("<I", 0)) == [] and h.sync() == []


def test_row_esp32_mac_crc8() -> None:
    assert make("esp32", mac="24:6f:28:7a:d8:84").read_reg(0x3FF5A008) == 0x003E246F


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_row_sfdp(chip: str) -> None:
    assert spi_read(attached(chip), 0x5A, 0, 4) == bytes.fromhex("53 46 44 50")


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_row_ram_programs(chip: str) -> None:
    """Only a flasher stub answers OHAI; a "Hello world" image never speaks the loader protocol."""
    h = make(chip)
    addr = 0x40100000 if chip == "esp8266" else 0x40080000
    after = h.load_program([(addr, b"Hello world!")], addr)
    assert b"OHAI" not in after and h.sync() == []
    assert stub_of(chip).vc.loader == "esptk-stub"
