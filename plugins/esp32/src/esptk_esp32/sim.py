"""The ESP32 as a virtual chip: ROM facts and eFuse words that encode a configured MAC.

The modelled part is an ESP32-D0WD-V3 (revision v3.0) with a 40 MHz crystal.
"""

from __future__ import annotations

from esptk.simchip import SimChip, SimRegion

from .efuse_layout import AHB_BASE, WINDOW
from .efuse_sim import EfuseController, factory_block0
from .spec import APB_CTL_DATE, EFUSE_BASE, ESP32

DEFAULT_MAC = "24:0a:c4:12:34:56"
XTAL_HZ = 40_000_000
SYNC_VALUE = 0x20120707
RTC_CALI_REG = 0x3FF5F06C
#: RTC calibration and CK8M chosen so that the host's ROM baud correction finds 40 MHz exactly:
#: cali * 15625 * ck8m / 40 = 800 * 15625 * 128 / 40 = 40e6
RTC_CALI = 800
CK8M = 128
ADC_VREF = 0x0A


def mac_crc8(data: bytes) -> int:
    """CRC-8 (Dallas/Maxim, reflected polynomial 0x8C) the eFuse MAC field carries."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def efuse_words(mac: bytes) -> dict[int, int]:
    """BLOCK0 words 0..6 (PROTOCOL.md 6.2.1) for a dual-core D0WD-V3 rev v3.0 with ``mac``."""
    w1 = int.from_bytes(mac[2:6], "big")
    w2 = (mac_crc8(bytes(reversed(mac))) << 16) | (mac[0] << 8) | mac[1]
    w3 = (1 << 9) | (1 << 13) | (1 << 15)  # package D0WD, CPU_FREQ_RATED (240 MHz), rev bit0
    w4 = (ADC_VREF << 8) | CK8M
    w5 = 1 << 20  # rev bit1; SPI pads 0 = default pins; minor revision 0
    words = (0, w1, w2, w3, w4, w5, 0)
    return {EFUSE_BASE + 4 * n: w for n, w in enumerate(words)}


class ESP32Sim(SimChip):
    def efuses(self) -> EfuseController:
        return next(d for d in self.devices if isinstance(d, EfuseController))

    def flash_encrypt(self, address: int, data: bytes) -> bytes | None:
        """The flash-encryption engine: AES with the BLOCK1 key and FLASH_CRYPT_CONFIG's tweak
        (SECURITY.md 5.6). Without a key in BLOCK1 the chip cannot encrypt: None."""
        ctrl = self.efuses()
        key = ctrl.flash_key()
        if key is None:
            return None
        if not data:
            return b""
        from . import flash_crypt  # type: ignore[attr-defined,unused-ignore]

        out: bytes = flash_crypt.encrypt(key, address, data, ctrl.flash_crypt_conf())
        return out

    def boot_log(self, reason: str, download: bool) -> bytes:
        rst = "0x3 (SW_RESET)" if reason == "software" else "0x1 (POWERON_RESET)"
        if download:
            boot = "boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"
        else:
            boot = "boot:0x13 (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n"
        return f"ets Jul 29 2019 12:21:46\r\n\r\nrst:{rst},{boot}".encode()


def make_sim_chip(spec: ESP32, options: dict[str, str]) -> SimChip:
    mac = bytes.fromhex((options.get("mac") or DEFAULT_MAC).replace(":", "").replace("-", ""))
    regs = {spec.magic_reg: spec.magic_values[0], APB_CTL_DATE: 0x16042000 | (1 << 31),
            RTC_CALI_REG: RTC_CALI << 7}
    regs.update(efuse_words(mac))
    return ESP32Sim(
        name=spec.name,
        rom_status_bytes=spec.rom_status_bytes,
        rom_commands=spec.rom_commands,
        regions=(
            SimRegion("PERIPHERALS", 0x3FF00000, 0x3FF80000, "io"),
            SimRegion("RTC_DRAM", 0x3FF80000, 0x3FF82000, "ram"),
            SimRegion("ROM_DATA", 0x3FF90000, 0x3FFA0000, "rom"),
            SimRegion("DRAM", 0x3FFAE000, 0x40000000, "ram"),
            SimRegion("ROM", 0x40000000, 0x40070000, "rom"),
            SimRegion("IRAM", 0x40070000, 0x400C0000, "ram"),
            SimRegion("RTC_IRAM", 0x400C0000, 0x400C2000, "ram"),
            SimRegion("RTC_DATA", 0x50000000, 0x50002000, "ram"),
        ),
        registers=regs,
        sync_value=SYNC_VALUE,
        uart_clkdiv_reg=spec.uart_clkdiv_reg,
        uart_clock_hz=XTAL_HZ,
        spi=spec.spi,
        boot_log_baud=115200,
        rom_needs_attach=True,
        rom_default_flash_size=2 * 1024 * 1024,
        rom_baud_change_noise=b"\x20",
        devices=(EfuseController(factory_block0(mac), options.get("efuse_file") or None),),
        aliases=((AHB_BASE, AHB_BASE + WINDOW, EFUSE_BASE),),
    )
