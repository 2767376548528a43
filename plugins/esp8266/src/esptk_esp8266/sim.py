"""The ESP8266 as a virtual chip: ROM facts and OTP words that encode a configured MAC."""

from __future__ import annotations

import math

from esptk.simchip import SECTOR, SimChip, SimRegion

from .spec import ESP8266, OTP_WORDS

DEFAULT_MAC = "18:fe:34:a1:b2:c3"
#: the ROM's UART clock: it assumes a 40 MHz crystal, a 26 MHz one runs everything at 26/40
UART_CLOCK_HZ = 52_000_000
SYNC_VALUE = 0x20120707
OTP_W0_LOW = 0x840D8E  #: low 24 bits of OTP word0 (bits 4/5 clear: an ESP8266EX, not an ESP8285)
OTP_W2 = 0x02A00000  #: bit 80 (word2 bit 16) clear
SECTORS_PER_BLOCK = 16


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


def make_sim_chip(spec: ESP8266, options: dict[str, str]) -> SimChip:
    mac = bytes.fromhex((options.get("mac") or DEFAULT_MAC).replace(":", "").replace("-", ""))
    regs = {spec.magic_reg: spec.magic_values[0]}
    regs.update(zip(OTP_WORDS, otp_words(mac), strict=True))
    return ESP8266Sim(
        name=spec.name,
        rom_status_bytes=spec.rom_status_bytes,
        rom_commands=spec.rom_commands,
        regions=(
            SimRegion("DPORT", 0x3FF00000, 0x3FF00100, "io"),
            SimRegion("DRAM", 0x3FFE8000, 0x40000000, "ram"),
            SimRegion("ROM", 0x40000000, 0x40010000, "rom"),
            SimRegion("IRAM", 0x40100000, 0x40110000, "ram"),
            SimRegion("PERIPHERALS", 0x60000000, 0x60002000, "io"),
        ),
        registers=regs,
        sync_value=SYNC_VALUE,
        uart_clkdiv_reg=spec.uart_clkdiv_reg,
        uart_clock_hz=UART_CLOCK_HZ,
        spi=spec.spi,
        boot_log_baud=74880,
        rom_begin_attaches=True,
    )
