"""The virtual ESP32's eFuse controller, driven through the loader's registers as tools drive it."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from esptk_esp32.efuse import ThreeFour
from esptk_esp32.efuse_layout import BLOCKS
from esptk_esp32.efuse_sim import FILE_BYTES, EfuseController, factory_block0
from esptk_sim.factory import make_chip, save_flash

BASE, AHB = 0x3FF5A000, 0x6001A000
CLK, CONF, CMD, DAC, DEC = BASE + 0xF8, BASE + 0xFC, BASE + 0x104, BASE + 0x118, BASE + 0x11C
MAC = bytes.fromhex("240ac4123456")


class Regs:
    """READ_REG/WRITE_REG on a virtual chip's address space (what the loaders execute)."""

    def __init__(self, path: Path | None = None) -> None:
        given = {"efuse_file": str(path)} if path else {}
        self.vc = make_chip("esp32", given)
        self.vc.power_on()

    def read(self, addr: int) -> int:
        return self.vc.mem.read_word(addr)

    def write(self, addr: int, value: int, mask: int = 0xFFFFFFFF) -> None:
        self.vc.mem.write_word(addr, value, mask)

    def program(self, block: int, words: list[int], timing: tuple[int, int, int] = (160, 255, 80)) -> None:
        for i, w in enumerate(words):
            self.write(BLOCKS[block].write_addr + 4 * i, w)
        self.write(DAC, timing[2], 0xFF)
        self.write(CLK, timing[0] | timing[1] << 8, 0xFFFF)
        self.write(CONF, 0x5A5A)
        self.write(CMD, 2)
        self.write(CONF, 0x5AA5)
        self.write(CMD, 1)

    def block(self, n: int, words: int = 8) -> list[int]:
        return [self.read(BLOCKS[n].read_addr + 4 * i) for i in range(words)]


def test_both_address_views_read_the_same_words() -> None:
    r = Regs()
    assert [r.read(BASE + 4 * i) for i in range(7)] == [r.read(AHB + 4 * i) for i in range(7)]
    assert r.read(BASE + 4) == 0xC4123456 and r.read(BASE + 0x1FC) == 0x16042600
    assert r.read(CLK) == 0x4052 and r.read(DAC) == 40  # reset values


def test_program_then_read_command_reloads_and_clears_write_registers() -> None:
    r = Regs()
    r.write(BLOCKS[3].write_addr, 0x12345678)
    assert r.block(3)[0] == 0  # not burnt before the program command
    r.program(3, [0x12345678])
    assert r.block(3)[0] == 0x12345678 and r.read(BLOCKS[3].write_addr) == 0
    assert r.read(CMD) == 0  # the command has completed


def test_program_with_wrong_timing_or_without_the_op_code_burns_nothing() -> None:
    r = Regs()
    r.program(3, [1], timing=(250, 255, 52))  # 26 MHz values on a 40 MHz chip
    assert r.block(3)[0] == 0
    r.write(BLOCKS[3].write_addr, 1)
    r.write(CONF, 0x5AA5)  # read op code with a program command
    r.write(CMD, 2)
    r.write(CONF, 0x5AA5)
    r.write(CMD, 1)
    assert r.block(3)[0] == 0


def test_write_and_read_disable_are_enforced() -> None:
    r = Regs()
    r.program(0, [(1 << 9) | (1 << 4) | (1 << 18)])  # WR_DIS: BLOCK3 and CLK8M/ADC_VREF; RD_DIS bit 2 (BLOCK3)
    r.program(3, [0xFFFF])
    r.program(0, [0, 0, 0, 0, 0xFF])  # CLK8M_FREQ (w4[7:0]) is write-protected
    assert r.block(0, 7)[4] & 0xFF == 128
    assert r.block(3) == [0] * 8
    r2 = Regs()
    r2.program(3, [0xABCD])
    r2.program(0, [1 << 18])  # read-protect BLOCK3 after it holds data
    assert r2.block(3) == [0] * 8
    assert r2.vc.chip.devices[0].block_data(3)[:2] == b"\xcd\xab"  # the hardware still has it


def test_three_four_blocks_decode_and_flag_bad_check_bytes() -> None:
    r = Regs()
    r.program(0, [0, 0, 0, 0, 0, 0, 1])  # CODING_SCHEME = 3/4
    words = ThreeFour().encode(BLOCKS[1], bytes(range(24)))
    r.program(2, words)
    assert r.block(2)[:6] == [0x03020100, 0x07060504, 0x0B0A0908, 0x0F0E0D0C, 0x13121110, 0x17161514]
    assert r.read(DEC) == 0
    r.program(3, [1])  # data without its check bytes
    assert r.read(DEC) & 0xF00


def test_state_persists_in_espefuses_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "efuse.bin"
    r = Regs(path)
    r.program(3, [0x11223344])
    save_flash(r.vc)
    raw = path.read_bytes()
    window = raw[:FILE_BYTES]
    # one big-endian number: the word at offset A sits big-endian at file offset 0x120 - A - 4
    at = 0x120 - 0x078 - 4
    assert struct.unpack(">I", window[at:at + 4])[0] == 0x11223344
    at = 0x120 - 0x004 - 4
    assert struct.unpack(">I", window[at:at + 4])[0] == 0xC4123456
    again = Regs(path)
    assert again.block(3)[0] == 0x11223344


def test_a_file_without_esptks_tail_is_taken_from_the_window(tmp_path: Path) -> None:
    path = tmp_path / "efuse.bin"
    ctrl = EfuseController(factory_block0(MAC), str(path))
    ctrl.fuses[3][0] = 0x55
    ctrl.reset()
    ctrl.save()
    path.write_bytes(path.read_bytes()[:FILE_BYTES])  # what espefuse leaves after a save
    assert EfuseController([0] * 7, str(path)).block_data(3)[0] == 0x55
    path.write_bytes(b"short")  # espefuse starts a short file blank
    assert EfuseController(factory_block0(MAC), str(path)).fuses[0] == [0] * 7


@pytest.mark.parametrize("mac", ["aa:cd:ef:11:22:33", "94:b9:7e:5a:6e:58"])
def test_factory_mac_carries_a_valid_crc(mac: str) -> None:
    from esptk_esp32.efuse import crc8

    m = bytes.fromhex(mac.replace(":", ""))
    w = factory_block0(m)
    assert (w[2] >> 16) & 0xFF == crc8(m)
