"""Hooks of the fake chip: only esptk's public surface is used."""

from __future__ import annotations

from esptk import hookimpl
from esptk.chip import ChipSpec, KnownChip, MemoryRegion, RegisterAccess, SpiRegisters
from esptk.efuse import EfuseSupport
from esptk.protocol import op
from esptk.simchip import SimChip, SimRegion


class FakeChip(ChipSpec):
    name = "fakechip"
    description = "FAKECHIP"
    magic_values = (0xFA4EC41B,)
    rom_status_bytes = 2
    rom_commands = op.BASIC_ROM
    flash_size_codes = {"1MB": 0x00, "2MB": 0x10, "4MB": 0x20}
    uart_clkdiv_reg = 0x60000014
    spi = SpiRegisters(base=0x60000200, w0=0x40)
    memory_map = (MemoryRegion("DRAM", 0x3FFE8000, 0x40000000),)

    def read_mac(self, regs: RegisterAccess) -> bytes:
        word = regs.read_reg(0x3FF00050)
        return bytes((0x02, 0xFA, 0x4E)) + word.to_bytes(4, "big")[1:]


CHIP = FakeChip()


@hookimpl
def esptk_register_chips() -> list[ChipSpec]:
    return [CHIP]


@hookimpl
def esptk_known_chips() -> list[KnownChip]:
    return [KnownChip("FAKECHIP-NEXT", (0xFA4EC41C,))]


@hookimpl
def esptk_efuse(chip: ChipSpec) -> EfuseSupport:
    from .efuse import FakeEfuse

    return FakeEfuse()


@hookimpl
def esptk_sim_chip(chip: ChipSpec, options: dict[str, str]) -> SimChip:
    from .efuse import FakeEfuseController

    return SimChip(
        name=CHIP.name, rom_status_bytes=2, rom_commands=CHIP.rom_commands,
        regions=(SimRegion("IO", 0x3FF00000, 0x3FF01000, "io"), SimRegion("ROM", 0x40000000, 0x40010000, "rom"),
                 SimRegion("DRAM", 0x3FFE8000, 0x40000000, "ram"), SimRegion("UART", 0x60000000, 0x60001000, "io")),
        registers={CHIP.magic_reg: CHIP.magic_values[0], 0x3FF00050: 0x00123456},
        sync_value=0x20120707, uart_clkdiv_reg=CHIP.uart_clkdiv_reg, uart_clock_hz=40_000_000, spi=CHIP.spi,
        devices=(FakeEfuseController(),),
    )
