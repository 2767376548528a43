"""The ROM loader model against the fact sheet (PROTOCOL.md sections 1-3, 6, 12, 14)."""

from __future__ import annotations

import hashlib
import struct

import pytest

from esptk.protocol import op, slip

from .conftest import SYNC, Host, make

ESP8266_SYNC_FRAME = bytes.fromhex("c0 01 08 02 00 07 07 12 20 00 00 c0")


def test_esp8266_sync_draws_eight_exact_replies(esp8266: Host) -> None:
    wire = esp8266.raw(slip.encode(struct.pack("<BBHI", 0, op.SYNC, 36, 0) + SYNC))
    assert wire == ESP8266_SYNC_FRAME * 8


def test_esp32_sync_replies_carry_four_status_bytes_and_a_nonzero_value(esp32: Host) -> None:
    replies = esp32.sync()
    assert len(replies) == 8
    assert all(r.op == op.SYNC and r.value != 0 and r.data == bytes(4) for r in replies)


@pytest.mark.parametrize("payload", [SYNC[:-1], SYNC[:4] + b"\x54" + SYNC[5:]])
def test_a_damaged_sync_draws_no_answer(esp32: Host, payload: bytes) -> None:
    assert esp32.send(op.SYNC, payload) == []


@pytest.mark.parametrize("chip,status", [("esp8266", b"\x01\x05"), ("esp32", b"\x01\x05\x00\x00")])
def test_unknown_opcode_is_a_malformed_message(chip: str, status: bytes) -> None:
    h = make(chip)
    r = h.one(0x99)
    assert r.op == 0x99 and r.data == status


@pytest.mark.parametrize("opcode", [op.FLASH_DEFL_BEGIN, op.SPI_FLASH_MD5, op.CHANGE_BAUDRATE, op.SPI_ATTACH,
                                    op.SPI_SET_PARAMS, op.READ_FLASH_SLOW, op.ERASE_FLASH, op.READ_FLASH])
def test_esp8266_rom_lacks_what_only_later_loaders_have(esp8266: Host, opcode: int) -> None:
    assert esp8266.one(opcode, bytes(16)).data == b"\x01\x05"


def test_rom_value_field_repeats_the_last_read_reg(esp32: Host) -> None:
    magic = esp32.read_reg(0x40001000)
    assert magic == 0x00F01D83
    assert esp32.one(op.SPI_ATTACH, bytes(8)).value == magic
    mac_word = esp32.read_reg(0x3FF5A004)
    assert esp32.write_reg(0x3FFE8000, 1).value == mac_word


def test_esp8266_magic_and_crystal_divider(esp8266: Host) -> None:
    assert esp8266.read_reg(0x40001000) == 0xFFF0C101
    div = esp8266.read_reg(0x60000014) & 0xFFFFF
    assert round(115200 * div / 1e6 / 2) == 26


def test_esp32_rom_baud_correction_finds_a_40mhz_crystal(esp32: Host) -> None:
    cali = (esp32.read_reg(0x3FF5F06C) >> 7) & 0x1FFFFFF
    ck8m = esp32.read_reg(0x3FF5A010) & 0xFF
    assert cali * 15625 * ck8m / 40 == 40_000_000
    assert round(115200 * (esp32.read_reg(0x3FF40014) & 0xFFFFF) / 1e6) == 40


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_an_address_where_nothing_answers_silences_the_loader_until_reset(chip: str) -> None:
    h = make(chip)
    assert h.send(op.READ_REG, struct.pack("<I", 0x10000000)) == []  # a load exception: no reply
    assert h.sync() == []  # and nothing more until a reset
    assert h.vc.loader == "exception" and "0x10000000" in h.vc.log[-1]
    h.vc.reset("poweron", download=True, at=h.now, quiet=True)
    assert len(h.sync()) == 8


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_mem_begin_outside_ram_is_refused(chip: str) -> None:
    h = make(chip)
    r = h.one(op.MEM_BEGIN, struct.pack("<IIII", 16, 1, 0x1800, 0x40000000))  # mask ROM
    assert r.data[0] == 1


def test_esp32_rom_refuses_flash_commands_before_spi_attach(esp32: Host) -> None:
    begin = struct.pack("<IIII", 0x1000, 1, 0x400, 0x10000)
    assert esp32.one(op.FLASH_BEGIN, begin).data == b"\x01\x06\x00\x00"
    esp32.attach()
    assert esp32.one(op.FLASH_BEGIN, begin).data == bytes(4)


def test_jedec_id_over_spi_registers_acts_on_the_cmd_write_only(esp32: Host) -> None:
    base = 0x3FF42000
    esp32.attach()
    esp32.write_reg(base + 0x24, (7 << 28) | 0x9F)  # USR2: command 0x9F (RDID), any order
    esp32.write_reg(base + 0x2C, 23)  # MISO_DLEN
    esp32.write_reg(base + 0x1C, (1 << 31) | (1 << 28))  # USR: COMMAND | MISO
    assert esp32.read_reg(base + 0x80) == 0  # nothing happened yet
    esp32.write_reg(base, 1 << 18)
    assert esp32.read_reg(base) & (1 << 18) == 0  # done at once
    assert esp32.read_reg(base + 0x80) == 0x1640EF


def test_data_block_checksum_mismatch(esp32: Host) -> None:
    esp32.attach()
    esp32.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x400, 1, 0x400, 0))
    assert esp32.data_block(op.FLASH_DATA, b"\x01" * 0x400, 0, chk=0x12).data[:2] == b"\x01\x07"


def test_flash_data_programs_like_nor_and_only_begin_erases(esp32: Host) -> None:
    vc = esp32.vc
    vc.flash.data[0x2000:0x3000] = b"\x0f" * 0x1000  # old content
    esp32.attach()
    esp32.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x400, 1, 0x400, 0x2000))
    assert vc.flash.data[0x2000:0x3000] == b"\xff" * 0x1000  # ROM32 erases up front, whole sectors
    vc.flash.data[0x2000] = 0x0F  # a bit pattern the write cannot set back
    assert esp32.data_block(op.FLASH_DATA, b"\xf3" * 0x400, 0).data == bytes(4)
    assert vc.flash.data[0x2000] == 0x03 and vc.flash.data[0x2001] == 0xF3


def test_esp8266_rom_over_erases_for_a_host_without_the_workaround(esp8266: Host) -> None:
    from esptk_esp8266.flash import rom_erase_size

    vc = esp8266.vc
    vc.flash.data[0:0x10000] = bytes(0x10000)
    esp8266.one(op.FLASH_BEGIN, struct.pack("<IIII", 0x3000, 3, 0x400, 0x1000))  # the plain size
    assert vc.flash.data[0x1000:0x7000] == b"\xff" * 0x6000  # 3 sectors asked, 6 erased
    assert vc.flash.data[0x7000] == 0
    vc.flash.data[0:0x10000] = bytes(0x10000)
    word = rom_erase_size(0x1000, 0x2000)
    esp8266.one(op.FLASH_BEGIN, struct.pack("<IIII", word, 2, 0x400, 0x1000))
    assert vc.flash.data[0x1000:0x3000] == b"\xff" * 0x2000 and vc.flash.data[0x3000] == 0


def test_esp32_rom_md5_is_lowercase_hex_text(esp32: Host) -> None:
    esp32.attach()
    esp32.vc.flash.data[0:4] = b"abcd"
    r = esp32.one(op.SPI_FLASH_MD5, struct.pack("<IIII", 0, 0x1000, 0, 0))
    expect = hashlib.md5(b"abcd" + b"\xff" * 0xFFC).hexdigest().encode()
    assert r.data == expect + bytes(4)


def test_esp32_rom_read_flash_slow_always_returns_64_bytes(esp32: Host) -> None:
    esp32.attach()
    esp32.vc.flash.data[0x100:0x110] = bytes(range(16))
    r = esp32.one(op.READ_FLASH_SLOW, struct.pack("<II", 0x100, 16))
    assert len(r.data) == 64 + 4 and r.data[:16] == bytes(range(16)) and r.data[64:] == bytes(4)


def test_esp32_rom_deflate_write(esp32: Host) -> None:
    import zlib

    esp32.attach()
    data = bytes(range(256)) * 16
    z = zlib.compress(data, 9)
    esp32.one(op.FLASH_DEFL_BEGIN, struct.pack("<IIII", 0x1000, 2, 0x400, 0x4000))
    for seq, i in enumerate(range(0, len(z), 0x400)):
        assert esp32.data_block(op.FLASH_DEFL_DATA, z[i:i + 0x400], seq).data == bytes(4)
    assert bytes(esp32.vc.flash.data[0x4000:0x5000]) == data


def test_boot_log_of_esp32_names_the_download_mode() -> None:
    h = make("esp32")
    h.vc.power_on(0.0)
    text = h.wait()
    assert b"rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))" in text
    assert b"waiting for download" in text


def test_esp8266_boot_log_is_garbage_at_115200() -> None:
    h = make("esp8266")
    h.vc.power_on(0.0)
    text = h.wait()
    assert text and b"boot mode" not in text and b"boot:" not in text
    h.vc.set_host_baud(74880)
    h.vc.power_on(1.0)
    assert b"rst cause:1, boot mode:(1,7)" in h.wait(1.0)


def test_esp32_rom_addresses_2mb_until_spi_set_params(esp32: Host) -> None:
    esp32.attach()
    begin = struct.pack("<IIII", 0x1000, 1, 0x400, 0x300000)
    assert esp32.one(op.FLASH_BEGIN, begin).data[:2] == b"\x01\x06"
    params = struct.pack("<6I", 0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF)
    assert esp32.one(op.SPI_SET_PARAMS, params).data == bytes(4)
    assert esp32.one(op.FLASH_BEGIN, begin).data == bytes(4)


def test_an_empty_flash_begin_erases_nothing(esp32: Host) -> None:
    esp32.attach()
    esp32.vc.flash.data[0x1000:0x2000] = bytes(0x1000)
    assert esp32.one(op.FLASH_BEGIN, struct.pack("<IIII", 0, 0, 0x400, 0x1800)).data == bytes(4)
    assert esp32.vc.flash.data[0x1000:0x2000] == bytes(0x1000)
