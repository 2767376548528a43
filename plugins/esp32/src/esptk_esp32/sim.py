"""The ESP32 as a virtual chip: ROM facts and eFuse words that encode a configured MAC.

The modelled part is an ESP32-D0WD-V3 (revision v3.0) with a 40 MHz crystal.

Memory map: every region of PROTOCOL.md 6.2.8 (but PADDING, a notion of image files, not memory),
plus the peripheral space 0x3FF00000-0x3FF7FFFF
and its AHB view at 0x60000000-0x6003FFFF (PROTOCOL.md 14). RAM reads back what was written;
mask ROM, the flash/PSRAM cache windows (the ROM loader sets up no cache: UNCERTAIN what they
return, modelled as reading 0) and holes inside those ranges read 0 and ignore writes; peripheral
registers keep what was written. Anywhere else nothing answers (an exception, see esptk_sim).
"""

from __future__ import annotations

import json
from importlib.resources import files

from esptk.simchip import SimChip, SimRegion, program_digest
from esptk.stub import StubImage

from .efuse_sim import EfuseController, factory_block0
from .spec import APB_CTL_DATE, EFUSE_BASE, ESP32

DEFAULT_MAC = "24:0a:c4:12:34:56"
XTAL_HZ = 40_000_000
SYNC_VALUE = 0x20120707
RTC_CALI_REG = 0x3FF5F06C
#: RTC calibration chosen, with the factory CLK8M_FREQ eFuse (efuse_sim.CK8M = 128), so that the host's
#: ROM baud correction finds 40 MHz exactly: cali * 15625 * ck8m / 40 = 800 * 15625 * 128 / 40 = 40e6
RTC_CALI = 800
UART0_DATE = 0x3FF40078
UART_DATE_VALUE = 0x15122500  #: PROTOCOL.md 14 (real ROMs, also through 0x60000078)
AHB_VIEW = (0x60000000, 0x60040000, 0x3FF40000)  #: PROTOCOL.md 14: same registers, other address


REGIONS = (
    SimRegion("DROM_MAP", 0x3F400000, 0x3F800000, "rom"),
    SimRegion("EXTRAM_DATA", 0x3F800000, 0x3FC00000, "rom"),
    SimRegion("DPORT", 0x3FF00000, 0x3FF40000, "io"),
    SimRegion("PERIPHERALS", 0x3FF40000, 0x3FF80000, "io"),
    SimRegion("RTC_DRAM", 0x3FF80000, 0x3FF82000, "ram"),
    SimRegion("ROM1", 0x3FF90000, 0x3FFA0000, "rom"),
    SimRegion("RESERVED", 0x3FFA0000, 0x3FFAE000, "rom"),
    SimRegion("DRAM", 0x3FFAE000, 0x40000000, "ram"),
    SimRegion("ROM0", 0x40000000, 0x40070000, "rom"),
    SimRegion("IRAM", 0x40070000, 0x400C0000, "ram"),  # SRAM0 (CACHE_PRO/APP, IRAM) and SRAM1's IRAM view
    SimRegion("IROM_MAP", 0x400D0000, 0x40400000, "rom"),
    SimRegion("RTC_DATA", 0x50000000, 0x50002000, "ram"),
)
#: RTC FAST memory is one 8 KiB RAM seen at 0x3FF80000 (data bus) and 0x400C0000 (instruction bus)
ALIASES = (AHB_VIEW, (0x400C0000, 0x400C2000, 0x3FF80000))


def efuse_words(mac: bytes) -> dict[int, int]:
    """BLOCK0 words 0..6 (PROTOCOL.md 6.2.1) for a dual-core D0WD-V3 rev v3.0 with ``mac``, by address
    (what the eFuse controller model starts from when no eFuse file holds the chip's state)."""
    return {EFUSE_BASE + 4 * n: w for n, w in enumerate(factory_block0(mac))}


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


def flasher_stubs() -> dict[str, str]:
    """Flasher stubs by program digest: esptool's (listed in stub/flasher_digests.json, which says how
    they were computed) and esptk's own, as a host uploads it (text, then data if any)."""
    folder = files(__package__) / "stub"
    image = StubImage.from_json((folder / "esp32.json").read_text())
    own = [(image.text_start, image.text)] + ([(image.data_start, image.data)] if image.data else [])
    known = {s["digest"]: s["loader"] for s in json.loads((folder / "flasher_digests.json").read_text())["stubs"]}
    return {**known, program_digest(own): "esptk-stub"}


def make_sim_chip(spec: ESP32, options: dict[str, str]) -> SimChip:
    mac = bytes.fromhex((options.get("mac") or DEFAULT_MAC).replace(":", "").replace("-", ""))
    regs = {spec.magic_reg: spec.magic_values[0], APB_CTL_DATE: 0x16042000 | (1 << 31),
            RTC_CALI_REG: RTC_CALI << 7, UART0_DATE: UART_DATE_VALUE}
    regs.update(efuse_words(mac))
    return ESP32Sim(
        name=spec.name,
        rom_status_bytes=spec.rom_status_bytes,
        rom_commands=spec.rom_commands,
        regions=REGIONS,
        aliases=ALIASES,
        flasher_stubs=flasher_stubs(),
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
    )
