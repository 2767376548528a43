"""ESP32 facts (PROTOCOL.md sections 5.1, 6.2 and 8.1)."""

from __future__ import annotations

from esptk.chip import ChipSpec, KnownChip, MemoryRegion, RegisterAccess, SpiRegisters
from esptk.protocol import op

EFUSE_BASE = 0x3FF5A000
APB_CTL_DATE = 0x3FF6607C


def efuse(regs: RegisterAccess, n: int) -> int:
    return regs.read_reg(EFUSE_BASE + 4 * n)


PACKAGES = {
    0: ("ESP32-S0WDQ6", "ESP32-D0WDQ6-V3", "ESP32-D0WDQ6"),
    1: ("ESP32-S0WD", "ESP32-D0WD-V3", "ESP32-D0WD"),
    2: ("ESP32-D2WD",) * 3,
    4: ("ESP32-U4WDH",) * 3,
    5: ("ESP32-PICO-D4", "ESP32-PICO-V3", "ESP32-PICO-D4"),
    6: ("ESP32-PICO-V3-02",) * 3,
    7: ("ESP32-D0WDR2-V3",) * 3,
}
CODING_SCHEMES = (
    "Coding Scheme None", "Coding Scheme 3/4", "Coding Scheme Repeat (UNSUPPORTED)",
    "Coding Scheme None (may contain encoding data)",
)

#: other chips of the family, named in errors when their magic value shows up
FAMILY = (
    KnownChip("ESP32-S2", (0x000007C6,)),
    KnownChip("ESP32-S3", (0x00000009,)),
    KnownChip("ESP32-C3", (0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F)),
    KnownChip("ESP32-C2", (0x6F51306F, 0x7C41A06F, 0x0C21E06F)),
    KnownChip("ESP32-C6", (0x2CE0806F,)),
    KnownChip("ESP32-C61", (0x33F0206F, 0x2421606F, 0x7211606F)),
    KnownChip("ESP32-C5", (0x1101406F, 0x63E1406F, 0x5FD1406F)),
    KnownChip("ESP32-H2", (0xD7B73E80,)),
    KnownChip("ESP32-P4", (0x00000000, 0x0ADDBAD0)),
    KnownChip("ESP32-S3(beta2)", (0xEB004136,)),
    KnownChip("ESP32-C6(beta)", (0x0DA1806F,)),
    KnownChip("ESP32-C5(beta3)", (0xE10D8082,)),
    KnownChip("ESP32-H2(beta1)", (0xCA26CC22,)),
    KnownChip("ESP32-H2(beta2)", (0x6881B06F,)),
)


class ESP32(ChipSpec):
    name = "esp32"
    description = "ESP32"
    magic_values = (0x00F01D83,)
    rom_status_bytes = 4
    bootloader_offset = 0x1000
    rom_commands = op.BASIC_ROM | {
        op.SPI_SET_PARAMS, op.SPI_ATTACH, op.READ_FLASH_SLOW, op.CHANGE_BAUDRATE,
        op.FLASH_DEFL_BEGIN, op.FLASH_DEFL_DATA, op.FLASH_DEFL_END, op.SPI_FLASH_MD5,
    }
    flash_size_codes = {
        "1MB": 0x00, "2MB": 0x10, "4MB": 0x20, "8MB": 0x30, "16MB": 0x40,
        "32MB": 0x50, "64MB": 0x60, "128MB": 0x70,
    }
    uart_clkdiv_reg = 0x3FF40014
    xtal_clk_divider = 1
    spi = SpiRegisters(base=0x3FF42000, w0=0x80, mosi_dlen=0x28, miso_dlen=0x2C)
    memory_map = (
        MemoryRegion("PADDING", 0x00000000, 0x00010000),
        MemoryRegion("DROM", 0x3F400000, 0x3F800000),
        MemoryRegion("EXTRAM_DATA", 0x3F800000, 0x3FC00000),
        MemoryRegion("RTC_DRAM", 0x3FF80000, 0x3FF82000),
        MemoryRegion("BYTE_ACCESSIBLE", 0x3FF90000, 0x40000000),
        MemoryRegion("DRAM", 0x3FFAE000, 0x40000000),
        MemoryRegion("DIRAM_DRAM", 0x3FFE0000, 0x3FFFFFFC),
        MemoryRegion("IROM", 0x40000000, 0x40070000),
        MemoryRegion("CACHE_PRO", 0x40070000, 0x40078000),
        MemoryRegion("CACHE_APP", 0x40078000, 0x40080000),
        MemoryRegion("IRAM", 0x40080000, 0x400A0000),
        MemoryRegion("DIRAM_IRAM", 0x400A0000, 0x400BFFFC),
        MemoryRegion("RTC_IRAM", 0x400C0000, 0x400C2000),
        MemoryRegion("IROM", 0x400D0000, 0x40400000),
        MemoryRegion("RTC_DATA", 0x50000000, 0x50002000),
    )
    uf2_family_id = 0x1C5F21B0
    # RTC_CNTL_SDIO_CONF: XPD bit31, DREFH 29-30, DREFM 27-28, DREFL 25-26, FORCE bit22, PD_EN bit21
    # (PROTOCOL.md 6.2.9; the words are the ones esptool 5.6 writes, seen with --trace)
    vddsdio_override = (0x3FF48074, {"1.8V": 0x80600000, "1.9V": 0xFE600000, "OFF": 0x00600000})
    image_chip_id = 0

    def read_mac(self, regs: RegisterAccess) -> bytes:
        w1, w2 = efuse(regs, 1), efuse(regs, 2)
        return bytes(((w2 >> 8) & 0xFF, w2 & 0xFF, (w1 >> 24) & 0xFF, (w1 >> 16) & 0xFF,
                      (w1 >> 8) & 0xFF, w1 & 0xFF))

    def major_revision(self, regs: RegisterAccess) -> int:
        bit0 = (efuse(regs, 3) >> 15) & 1
        bit1 = (efuse(regs, 5) >> 20) & 1
        bit2 = (regs.read_reg(APB_CTL_DATE) >> 31) & 1
        return {0: 0, 1: 1, 3: 2, 7: 3}.get(bit2 << 2 | bit1 << 1 | bit0, 0)

    def revision(self, regs: RegisterAccess) -> int:
        minor = (efuse(regs, 5) >> 24) & 3
        return self.major_revision(regs) * 100 + minor

    def package(self, regs: RegisterAccess) -> int:
        w3 = efuse(regs, 3)
        return ((w3 >> 9) & 7) | (((w3 >> 2) & 1) << 3)

    def describe(self, regs: RegisterAccess) -> str:
        w3 = efuse(regs, 3)
        pkg = self.package(regs)
        rev = self.revision(regs)
        names = PACKAGES.get(pkg)
        if names is None:
            name = "Unknown ESP32"
        elif w3 & 1:
            name = names[0]
        elif rev // 100 == 3:
            name = names[1]
        else:
            name = names[2]
        return f"{name} (revision v{rev // 100}.{rev % 100})"

    def features(self, regs: RegisterAccess) -> list[str]:
        w3, w4, w6 = efuse(regs, 3), efuse(regs, 4), efuse(regs, 6)
        feats = ["Wi-Fi"]
        if not w3 & 2:
            feats.append("BT")
        feats.append("Single Core + LP Core" if w3 & 1 else "Dual Core + LP Core")
        if w3 & (1 << 13):
            feats.append("160MHz" if w3 & (1 << 12) else "240MHz")
        pkg = self.package(regs)
        if pkg in (2, 4, 5, 6):
            feats.append("Embedded Flash")
        if pkg == 6:
            feats.append("Embedded PSRAM")
        if (w4 >> 8) & 0x1F:
            feats.append("Vref calibration in eFuse")
        if w3 & (1 << 14):
            feats.append("BLK3 partially reserved")
        feats.append(CODING_SCHEMES[w6 & 3])
        return feats
