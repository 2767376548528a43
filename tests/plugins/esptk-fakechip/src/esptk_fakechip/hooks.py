"""Hooks of the fake chip: only esptk's public surface is used."""

from __future__ import annotations

from esptk import hookimpl
from esptk.chip import ChipSpec, KnownChip, MemoryRegion, RegisterAccess, SpiRegisters
from esptk.protocol import op


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
