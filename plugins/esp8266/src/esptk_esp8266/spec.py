"""ESP8266 facts (PROTOCOL.md sections 6.1 and 8.1)."""

from __future__ import annotations

from esptk.chip import ChipSpec, MemoryRegion, RegisterAccess, SpiRegisters
from esptk.errors import ChipError
from esptk.protocol import op

OTP_WORDS = (0x3FF00050, 0x3FF00054, 0x3FF00058, 0x3FF0005C)


def _otp(regs: RegisterAccess) -> tuple[int, int, int, int]:
    w0, w1, w2, w3 = (regs.read_reg(a) for a in OTP_WORDS)
    return w0, w1, w2, w3


class ESP8266(ChipSpec):
    name = "esp8266"
    description = "ESP8266"
    magic_values = (0xFFF0C101,)
    rom_status_bytes = 2
    bootloader_offset = 0x0
    rom_commands = op.BASIC_ROM
    flash_size_codes = {
        "256KB": 0x10, "512KB": 0x00, "1MB": 0x20, "2MB": 0x30, "4MB": 0x40,
        "2MB-c1": 0x50, "4MB-c1": 0x60, "8MB": 0x80, "16MB": 0x90,
    }
    uart_clkdiv_reg = 0x60000014
    xtal_clk_divider = 2
    spi = SpiRegisters(base=0x60000200, w0=0x40)
    memory_map = (
        MemoryRegion("DPORT", 0x3FF00000, 0x3FF00010),
        MemoryRegion("DRAM", 0x3FFE8000, 0x40000000),
        MemoryRegion("IRAM", 0x40100000, 0x40108000),
        MemoryRegion("IROM", 0x40201010, 0x402E1010),
    )
    uf2_family_id = 0x7EAB61ED
    image_chip_id = None

    def read_mac(self, regs: RegisterAccess) -> bytes:
        w0, w1, _w2, w3 = _otp(regs)
        if w3 != 0:
            oui = bytes(((w3 >> 16) & 0xFF, (w3 >> 8) & 0xFF, w3 & 0xFF))
        elif (w1 >> 16) & 0xFF == 0:
            oui = bytes((0x18, 0xFE, 0x34))
        elif (w1 >> 16) & 0xFF == 1:
            oui = bytes((0xAC, 0xD0, 0x74))
        else:
            raise ChipError("unknown OUI in the ESP8266 OTP MAC words", hint="the chip's OTP may be damaged")
        return oui + bytes(((w1 >> 8) & 0xFF, w1 & 0xFF, (w0 >> 24) & 0xFF))

    def read_chip_id(self, regs: RegisterAccess) -> int:
        w0, w1, _w2, _w3 = _otp(regs)
        return ((w0 >> 24) | ((w1 & 0xFFFFFF) << 8)) & 0xFFFFFFFF

    def _efuse(self, regs: RegisterAccess) -> int:
        w0, w1, w2, w3 = _otp(regs)
        return (w3 << 96) | (w2 << 64) | (w1 << 32) | w0

    def describe(self, regs: RegisterAccess) -> str:
        e = self._efuse(regs)
        if not (e & (1 << 4) or e & (1 << 80)):
            return "ESP8266EX"
        r0_4, r3_25, r3_26, r3_27 = (bool(e & (1 << b)) for b in (4, 121, 122, 123))
        size = None
        if r0_4 and not r3_25:
            size = {(False, False): 1, (False, True): 2}.get((r3_27, r3_26))
        elif not r0_4 and r3_25:
            size = {(False, False): 2, (False, True): 4}.get((r3_27, r3_26))
        temp = "H" if e & (1 << 5) else "N"
        return {1: f"ESP8285{temp}08", 2: f"ESP8285{temp}16"}.get(size or 0, "ESP8285")

    def features(self, regs: RegisterAccess) -> list[str]:
        feats = ["Wi-Fi", "160MHz"]
        if self.describe(regs).startswith("ESP8285"):
            feats.append("Embedded Flash")
        return feats
