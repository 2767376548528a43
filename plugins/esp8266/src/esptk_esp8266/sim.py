"""The ESP8266 as a virtual chip: ROM facts and OTP words that encode a configured MAC.

Memory map: every region of PROTOCOL.md 6.1.7 (DPORT widened to its 4 KiB page, IRAM to the
64 KiB the ROM can load), the mask ROM, the peripherals 0x60000000-0x60001FFF (UART_DATE at
0x60000078 reads 0x00062000, PROTOCOL.md 14), the flash cache window (the ROM loader sets up no
cache: UNCERTAIN what it returns, modelled as reading 0), and the two windows esptool's hardware
tests read and write, 0x50000000 ("RTC RAM") and 0x400C0000 (PROTOCOL.md 14: both work on real
chips; what answers there is not in the fact sheets, so each is modelled as 8 KiB of RAM).
Anywhere else nothing answers (an exception, see esptk_sim).
"""

from __future__ import annotations

import json
import math
from importlib.resources import files

from esptk.simchip import SECTOR, SimChip, SimRegion, program_digest
from esptk.stub import StubImage

from .spec import ESP8266, OTP_WORDS

DEFAULT_MAC = "18:fe:34:a1:b2:c3"
#: the ROM's UART clock: it assumes a 40 MHz crystal, a 26 MHz one runs everything at 26/40
UART_CLOCK_HZ = 52_000_000
SYNC_VALUE = 0x20120707
OTP_W0_LOW = 0x840D8E  #: low 24 bits of OTP word0 (bits 4/5 clear: an ESP8266EX, not an ESP8285)
OTP_W2 = 0x02A00000  #: bit 80 (word2 bit 16) clear
SECTORS_PER_BLOCK = 16
UART_DATE = 0x60000078
UART_DATE_VALUE = 0x00062000  #: PROTOCOL.md 14 (esptool 2.x chip detection)

REGIONS = (
    SimRegion("DPORT", 0x3FF00000, 0x3FF01000, "io"),
    SimRegion("DRAM", 0x3FFE8000, 0x40000000, "ram"),
    SimRegion("ROM", 0x40000000, 0x40010000, "rom"),
    SimRegion("IRAM", 0x40100000, 0x40110000, "ram"),
    SimRegion("TEST_RAM_400C", 0x400C0000, 0x400C2000, "ram"),
    SimRegion("IROM_MAP", 0x40200000, 0x40300000, "rom"),
    SimRegion("RTC_RAM_5000", 0x50000000, 0x50002000, "ram"),
    SimRegion("PERIPHERALS", 0x60000000, 0x60002000, "io"),
)


def otp_words(mac: bytes) -> tuple[int, int, int, int]:
    """OTP words 0..3 from which the host decodes ``mac`` (PROTOCOL.md 6.1.2)."""
    oui = mac[:3]
    if oui == bytes((0x18, 0xFE, 0x34)):
        w3, oui_code = 0, 0
    elif oui == bytes((0xAC, 0xD0, 0x74)):
        w3, oui_code = 0, 1
    else:
        w3, oui_code = int.from_bytes(oui, "big"), 0
    w1 = (oui_code << 16) | (mac[3] << 8) | mac[4]
    w0 = (mac[5] << 24) | OTP_W0_LOW
    return w0, w1, OTP_W2, w3


class ESP8266Sim(SimChip):
    def boot_log(self, reason: str, download: bool) -> bytes:
        cause = 2 if reason == "software" else 1
        mode = "(1,7)" if download else "(3,6)"
        return f"\r\n ets Jan  8 2013,rst cause:{cause}, boot mode:{mode}\r\n\r\n".encode()

    def rom_erase_range(self, offset: int, erase_size: int) -> tuple[int, int]:
        """The ROM's erase bug (inferred, PROTOCOL.md 2.5): it erases the sectors up to the next
        64 KiB boundary and then the requested count on top."""
        m = math.ceil(erase_size / SECTOR)
        if m == 0:
            return offset - offset % SECTOR, 0
        s = offset // SECTOR
        n = m + min(SECTORS_PER_BLOCK - s % SECTORS_PER_BLOCK, m)
        return s * SECTOR, n * SECTOR


def flasher_stubs() -> dict[str, str]:
    """Flasher stubs by program digest: esptool's (listed in stub/flasher_digests.json, which says how
    they were computed) and esptk's own and its stage-1 loader, as a host uploads them (text, then
    data if any)."""
    folder = files(__package__) / "stub"
    known = {s["digest"]: s["loader"] for s in json.loads((folder / "flasher_digests.json").read_text())["stubs"]}
    for name, loader in (("esp8266.json", "esptk-stub"), ("esp8266-stage1.json", "esptk-stage1")):
        image = StubImage.from_json((folder / name).read_text())
        own = [(image.text_start, image.text)] + ([(image.data_start, image.data)] if image.data else [])
        known[program_digest(own)] = loader
    return known


def make_sim_chip(spec: ESP8266, options: dict[str, str]) -> SimChip:
    mac = bytes.fromhex((options.get("mac") or DEFAULT_MAC).replace(":", "").replace("-", ""))
    regs = {spec.magic_reg: spec.magic_values[0], UART_DATE: UART_DATE_VALUE}
    regs.update(zip(OTP_WORDS, otp_words(mac), strict=True))
    return ESP8266Sim(
        name=spec.name,
        rom_status_bytes=spec.rom_status_bytes,
        rom_commands=spec.rom_commands,
        regions=REGIONS,
        flasher_stubs=flasher_stubs(),
        registers=regs,
        sync_value=SYNC_VALUE,
        uart_clkdiv_reg=spec.uart_clkdiv_reg,
        uart_clock_hz=UART_CLOCK_HZ,
        spi=spec.spi,
        boot_log_baud=74880,
        rom_begin_attaches=True,
    )
