"""The address space: alias views, device windows, full memory maps, holes, and where nothing answers."""

from __future__ import annotations

import struct

import pytest

from esptk.protocol import op
from esptk.simchip import SimDevice

from .conftest import Host, make


@pytest.fixture(params=["rom", "stub"])
def loader(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def chip_in(chip: str, loader: str, **options: str) -> Host:
    h = make(chip, **options)
    if loader == "stub":
        assert h.start_stub().endswith(b"\xc0OHAI\xc0")
    return h


def test_esp32_peripherals_answer_in_their_ahb_view_too(loader: str) -> None:
    h = chip_in("esp32", loader)
    assert h.read_reg(0x60000078) == h.read_reg(0x3FF40078) == 0x15122500  # UART0 UART_DATE
    for n in range(7):  # eFuse BLOCK0 through 0x6001A000
        assert h.read_reg(0x6001A000 + 4 * n) == h.read_reg(0x3FF5A000 + 4 * n)
    assert h.read_reg(0x6001A004) != 0  # the MAC low word
    assert h.write_reg(0x6002F000 + 0x10, 0xA5A5).data[0] == 0  # a register written in one view ...
    assert h.read_reg(0x3FF6F010) == 0xA5A5  # ... is read in the other


def test_esp8266_uart_date_register(loader: str) -> None:
    assert chip_in("esp8266", loader).read_reg(0x60000078) == 0x00062000


@pytest.mark.parametrize("chip,addr", [("esp8266", 0x50000000), ("esp8266", 0x400C0000),
                                       ("esp32", 0x50000000), ("esp32", 0x400C0000), ("esp32", 0x3FF80000)])
def test_ram_windows_that_esptools_hardware_tests_use_keep_what_is_written(chip: str, addr: int, loader: str) -> None:
    h = chip_in(chip, loader)
    assert h.write_reg(addr, 0x12345678).data[0] == 0
    assert h.read_reg(addr) == 0x12345678
    assert h.write_reg(addr, 0xFF00, mask=0x0000FF00).data[0] == 0  # masked write keeps the other bits
    assert h.read_reg(addr) == 0x1234FF78


def test_esp32_rtc_fast_memory_is_one_ram_at_two_addresses() -> None:
    h = make("esp32")
    h.write_reg(0x400C0100, 0xCAFEF00D)
    assert h.read_reg(0x3FF80100) == 0xCAFEF00D


@pytest.mark.parametrize("chip,addr", [("esp32", 0x3FFA0000), ("esp32", 0x3F400000), ("esp32", 0x400D0000),
                                       ("esp32", 0x3F800000), ("esp8266", 0x40200000)])
def test_holes_and_cache_windows_read_zero_and_ignore_writes(chip: str, addr: int, loader: str) -> None:
    h = chip_in(chip, loader)
    assert h.write_reg(addr, 0xFFFFFFFF).data[0] == 0
    assert h.read_reg(addr) == 0


@pytest.mark.parametrize("chip,addr", [("esp32", 0x3FF7F000), ("esp32", 0x3FF00F00), ("esp8266", 0x60001F00),
                                       ("esp8266", 0x3FF00F00)])
def test_unused_peripheral_registers_read_zero(chip: str, addr: int, loader: str) -> None:
    assert chip_in(chip, loader).read_reg(addr) == 0


@pytest.mark.parametrize("chip,addr", [("esp8266", 0x00000000), ("esp8266", 0x3FF10000), ("esp32", 0x00000000),
                                       ("esp32", 0x60040000), ("esp32", 0x3FF40001)])
def test_where_nothing_answers_the_loader_falls_silent_until_reset(chip: str, addr: int, loader: str) -> None:
    h = chip_in(chip, loader)
    assert h.send(op.WRITE_REG, struct.pack("<IIII", addr, 1, 0xFFFFFFFF, 0)) == []
    assert h.sync() == [] and h.vc.loader == "exception"
    assert f"0x{addr:08x}" in h.vc.log[-1]
    h.vc.reset("poweron", download=True, at=h.now, quiet=True)
    assert h.vc.loader == "rom" and len(h.sync()) == 8


class Recorder(SimDevice):
    """A peripheral model that keeps its own registers and counts resets."""

    windows = ((0x3FF5A000, 0x3FF5B000),)

    def __init__(self) -> None:
        self.regs: dict[int, int] = {}
        self.resets = 0

    def read(self, addr: int) -> int:
        return self.regs.get(addr, 0xD0D0D0D0)

    def write(self, addr: int, value: int) -> None:
        self.regs[addr] = value

    def reset(self) -> None:
        self.resets += 1


def test_a_device_answers_for_its_window_in_every_view() -> None:
    h = make("esp32")
    dev = Recorder()
    h.vc.chip.devices = (dev,)
    assert h.read_reg(0x3FF5A004) == 0xD0D0D0D0  # the device, not the eFuse words of SimChip.registers
    h.write_reg(0x6001A0FC, 0x5A5A, mask=0xFFFF)  # through the AHB view, masked
    assert dev.regs[0x3FF5A0FC] == 0xD0D05A5A
    assert h.read_reg(0x3FF5A0FC) == 0xD0D05A5A
    h.vc.reset("poweron", download=True, at=h.now, quiet=True)
    assert dev.resets == 1


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_write_reg_with_a_delay_record_at_uart_date(chip: str, loader: str) -> None:
    """esptool 5's write_reg(..., delay_after_us): a second record, value 0 mask 0, at 0x60000078."""
    h = chip_in(chip, loader, timing="1")
    addr = 0x3FFE8000 if chip == "esp8266" else 0x3FFAE000
    records = struct.pack("<IIII", addr, 0x5EED, 0xFFFFFFFF, 0) + struct.pack("<IIII", 0x60000078, 0, 0, 20000)
    h.wait(1.0)
    assert h.send(op.WRITE_REG, records, dt=0.015) == []  # not before the 20 ms delay
    replies = [r for r in h.send(op.SYNC, b"", dt=0.1) if r.op == op.WRITE_REG]
    assert len(replies) == 1 and replies[0].data[0] == 0

    def read(a: int) -> int:
        (r,) = h.send(op.READ_REG, struct.pack("<I", a), dt=0.1)
        return r.value

    assert read(addr) == 0x5EED
    assert read(0x60000078) == (0x00062000 if chip == "esp8266" else 0x15122500)  # unchanged
