"""Silicon fidelity: SFDP table, eFuse MAC CRC, which RAM programs are loaders (issue 9)."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest

from esptk.protocol import op
from esptk.simchip import flash_size_from_id

from .conftest import Host, make

SPI = {"esp32": (0x3FF42000, 0x80), "esp8266": (0x60000200, 0x40)}


def spi_read(h: Host, opcode: int, addr: int, nbytes: int) -> bytes:
    """A user command with a 24-bit address and 8 dummy cycles (PROTOCOL.md 6.4), as esptool runs RDSFDP."""
    base, w0 = SPI[h.vc.chip.name]
    bits = nbytes * 8
    usr1 = (23 << 26) | 7
    if h.vc.chip.name == "esp32":
        h.write_reg(base + 0x2C, bits - 1)  # MISO_DLEN
    else:
        usr1 |= (bits - 1) << 8
    h.write_reg(base + 0x20, usr1)
    h.write_reg(base + 0x1C, (1 << 31) | (1 << 30) | (1 << 29) | (1 << 28))
    h.write_reg(base + 0x24, (7 << 28) | opcode)
    h.write_reg(base + 0x04, addr << 8)
    h.write_reg(base + 0x00, 1 << 18)
    assert h.read_reg(base) & (1 << 18) == 0
    return b"".join(h.read_reg(base + w0 + i).to_bytes(4, "little") for i in range(0, nbytes, 4))[:nbytes]


def attached(chip: str, **options: str) -> Host:
    h = make(chip, **options)
    if chip == "esp32":
        h.attach()
    else:  # the ESP8266 ROM attaches the flash on FLASH_BEGIN(0, 0)
        assert h.one(op.FLASH_BEGIN, bytes(16)).data[0] == 0
    return h


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
@pytest.mark.parametrize("flash_id", ["0x1540ef", "0x1640ef", "0x1840ef", "0x1940ef", "0x164020"])
def test_sfdp_describes_the_configured_flash(chip: str, flash_id: str) -> None:
    h = attached(chip, flash_id=flash_id)
    header = spi_read(h, 0x5A, 0, 16)
    assert header[:4] == b"SFDP" and header[5] == 1  # signature, major revision 1
    assert header[8] == 0 and header[10] == 1  # first parameter header: basic table, major 1
    length, pointer = header[11], int.from_bytes(header[12:15], "little")
    table = b"".join(spi_read(h, 0x5A, pointer + i, 8) for i in range(0, length * 4, 8))
    dwords = struct.unpack_from(f"<{length}I", table)
    assert dwords[0] & 3 == 1 and (dwords[0] >> 8) & 0xFF == 0x20  # uniform 4 KiB erase, opcode 0x20
    size = flash_size_from_id(int(flash_id, 16))
    assert size is not None and (dwords[1] + 1) // 8 == size  # density in bits - 1
    assert (dwords[0] >> 17) & 3 == (1 if size > 16 << 20 else 0)  # 4-byte addresses above 16 MiB
    erase_types = [(dwords[7 + i // 2] >> (16 * (i % 2))) & 0xFFFF for i in range(4)]
    assert (12, 0x20) in [(t & 0xFF, t >> 8) for t in erase_types]  # erase type: 2^12 bytes, 0x20
    assert spi_read(h, 0x5A, 0x200, 4) == b"\xff" * 4  # past the table


def test_sfdp_reads_high_before_the_flash_is_attached() -> None:
    assert spi_read(make("esp32"), 0x5A, 0, 4) == b"\xff" * 4


# --- MAC CRC8 (SECURITY.md 3) -------------------------------------------------------------------
def mac_crc8(mac: bytes) -> int:
    crc = 0
    for b in mac:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def test_crc8_vectors() -> None:
    assert mac_crc8(b"123456789") == 0xA1
    vectors = {"aa:cd:ef:11:22:33": 0x63, "aa:cd:ef:01:02:03": 0x56, "48:63:92:15:72:16": 0x75,
               "94:b9:7e:5a:6e:58": 0xE2}
    assert {m: mac_crc8(bytes.fromhex(m.replace(":", ""))) for m in vectors} == vectors


def macs_in_tests() -> set[str]:
    """Every MAC the test suite gives the virtual ESP32, and the board of PROTOCOL.md 14."""
    import re

    root = Path(__file__).resolve().parents[1]
    found = {"24:6f:28:7a:d8:84", "24:0a:c4:12:34:56"}
    for path in root.rglob("*.py"):
        found |= {m.lower() for m in re.findall(r"mac[=:\s\"',]+((?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2})",
                                                path.read_text())}
    return found


@pytest.mark.parametrize("mac", sorted(macs_in_tests()))
def test_esp32_efuse_mac_crc_is_over_the_printed_bytes(mac: str) -> None:
    h = make("esp32", mac=mac)
    raw = bytes.fromhex(mac.replace(":", ""))
    w2 = h.read_reg(0x3FF5A008)
    assert w2 >> 16 & 0xFF == mac_crc8(raw) and w2 & 0xFFFF == int.from_bytes(raw[:2], "big")


def test_the_board_of_the_real_trace() -> None:
    assert make("esp32", mac="24:6f:28:7a:d8:84").read_reg(0x3FF5A008) == 0x003E246F


# --- which RAM programs are loaders (contract B) --------------------------------------------------
@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_any_other_program_runs_silently_and_is_logged(chip: str) -> None:
    h = make(chip)
    addr = 0x40100000 if chip == "esp8266" else 0x40080000
    after = h.load_program([(addr, b"\x06\xff\xff\x00" * 4)], addr)
    frames = h.frames(after)
    assert len(frames) == 1 and frames[0][:2] == b"\x01\x06"  # MEM_END's reply, no OHAI
    assert h.vc.loader == "program"
    assert "unknown program" in h.vc.log[-1] and f"0x{addr:08x}" in h.vc.log[-1]
    assert h.sync() == [] and h.send(op.READ_REG, struct.pack("<I", 0x40001000)) == []


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_esptks_own_stub_is_recognised(chip: str) -> None:
    h = make(chip)
    assert h.start_stub().endswith(b"\xc0OHAI\xc0")
    assert h.vc.loader == "esptk-stub" and h.vc.log == []


def esptool_stubs(chip: str) -> list[Path]:
    import esptool

    folder = Path(esptool.__file__).parent / "targets" / "stub_flasher"
    return sorted(folder.glob(f"*/{chip}.json"))


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_esptools_stubs_are_recognised(chip: str) -> None:
    stubs = esptool_stubs(chip)
    assert len(stubs) == 2
    for path in stubs:
        d = json.loads(path.read_text())
        h = make(chip)
        segments = [(d["text_start"], base64.b64decode(d["text"])), (d["data_start"], base64.b64decode(d["data"]))]
        assert h.load_program(segments, d["entry"]).endswith(b"\xc0OHAI\xc0"), path
        assert h.vc.loader == "esptool-stub"


def test_the_same_stub_with_one_byte_changed_is_not_a_loader() -> None:
    h = make("esp32")
    from .conftest import own_stub

    image = own_stub("esp32")
    text = bytearray(image.text)
    text[-1] ^= 1
    after = h.load_program([(image.text_start, bytes(text)), (image.data_start, image.data)], image.entry)
    assert not after.endswith(b"OHAI\xc0") and h.vc.loader == "program"
