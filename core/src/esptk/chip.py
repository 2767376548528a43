"""What a chip plugin tells esptk about a chip.

A chip plugin subclasses :class:`ChipSpec`, fills in the class attributes with the chip's facts
(magic value, registers, flash tables, memory map) and overrides the methods whose logic is
chip-specific (MAC and description from eFuse words, revision). Core uses only what is declared
here and never branches on a chip's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from .errors import ChipError


class RegisterAccess(Protocol):
    """32-bit register access on a connected chip (READ_REG / WRITE_REG)."""

    def read_reg(self, addr: int) -> int: ...

    def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF, delay_us: int = 0) -> None: ...


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    start: int
    end: int  #: exclusive

    def __contains__(self, addr: object) -> bool:
        return isinstance(addr, int) and self.start <= addr < self.end


@dataclass(frozen=True)
class SpiRegisters:
    """The SPI flash controller used for "user commands" such as RDID (JEDEC id)."""

    base: int
    w0: int  #: offset of the first data buffer word
    cmd: int = 0x00
    addr: int = 0x04
    usr: int = 0x1C
    usr1: int = 0x20
    usr2: int = 0x24
    mosi_dlen: int | None = None  #: None: the lengths live in USR1 (ESP8266 style)
    miso_dlen: int | None = None


@dataclass(frozen=True)
class KnownChip:
    """A chip that esptk can name from its magic value even when no plugin drives it."""

    name: str
    magic_values: tuple[int, ...]


FLASH_MODES: dict[str, int] = {"qio": 0, "qout": 1, "dio": 2, "dout": 3}


class ChipSpec:
    """Facts and chip-specific logic for one chip model. Subclass per chip; register an instance."""

    #: name users type (``--chip esp32``) and entry-point name
    name: ClassVar[str]
    #: human name ("ESP32")
    description: ClassVar[str]
    #: values of the detection register (READ_REG of ``magic_reg``)
    magic_values: ClassVar[tuple[int, ...]]
    magic_reg: ClassVar[int] = 0x40001000
    #: status bytes the ROM loader appends (the stub always sends 2)
    rom_status_bytes: ClassVar[int] = 2
    #: flash offset of the second-stage bootloader / first image
    bootloader_offset: ClassVar[int] = 0
    #: opcodes the ROM loader implements
    rom_commands: ClassVar[frozenset[int]] = frozenset()
    #: flash header tables: name -> code (size codes already shifted into the high nibble)
    flash_size_codes: ClassVar[dict[str, int]] = {}
    flash_freq_codes: ClassVar[dict[str, int]] = {"40m": 0x0, "26m": 0x1, "20m": 0x2, "80m": 0xF}
    flash_mode_codes: ClassVar[dict[str, int]] = FLASH_MODES
    #: UART clock divider register and the crystal divider used for crystal detection
    uart_clkdiv_reg: ClassVar[int]
    xtal_clk_divider: ClassVar[int] = 1
    spi: ClassVar[SpiRegisters]
    memory_map: ClassVar[tuple[MemoryRegion, ...]] = ()
    #: image-header chip id (None for chips without an extended header)
    image_chip_id: ClassVar[int | None] = None
    #: largest flash the chip can address
    max_flash_size: ClassVar[int] = 16 * 1024 * 1024
    #: UF2 family id for ``merge-bin --format uf2`` (None: the chip has none)
    uf2_family_id: ClassVar[int | None] = None
    #: ``--override-vddsdio``: register and the word written for each of "1.8V", "1.9V", "OFF"
    #: (None: the chip has no such regulator override)
    vddsdio_override: ClassVar[tuple[int, dict[str, int]] | None] = None

    # --- identity -------------------------------------------------------------------------
    def matches_magic(self, value: int) -> bool:
        return value in self.magic_values

    def read_mac(self, regs: RegisterAccess) -> bytes:
        """The 6-byte factory MAC address from eFuse/OTP."""
        raise ChipError(f"{self.description}: reading the MAC address is not supported")

    def read_chip_id(self, regs: RegisterAccess) -> int | None:
        """A numeric chip id, or None if the chip has none (then the MAC stands in)."""
        return None

    def describe(self, regs: RegisterAccess) -> str:
        """Model and revision, e.g. "ESP32-D0WD-V3 (revision v3.0)"."""
        return self.description

    def features(self, regs: RegisterAccess) -> list[str]:
        return []

    def revision(self, regs: RegisterAccess) -> int | None:
        """major*100 + minor, or None where the chip has no revision fields."""
        return None

    def crystal_mhz(self, regs: RegisterAccess, baud: int) -> tuple[int, float]:
        """(normalised crystal MHz, raw estimate) from the UART divider the ROM autobauded to."""
        div = regs.read_reg(self.uart_clkdiv_reg) & 0xFFFFF
        est = baud * div / 1e6 / self.xtal_clk_divider
        norm = 48 if est > 45 else 40 if est > 33 else 26
        return norm, est

    # --- flash tables -----------------------------------------------------------------------
    def flash_size_bytes(self, name: str) -> int:
        return parse_size(name.split("-")[0])


def code_name(table: dict[str, int], code: int) -> str | None:
    """The name of ``code`` in one of a chip's flash tables (mode, frequency, size), or None."""
    return next((name for name, value in table.items() if value == code), None)


def parse_size(text: str) -> int:
    """'4MB' -> 4194304, '256KB' -> 262144, '0x1000' -> 4096, '4096' -> 4096, '1k' -> 1024."""
    t = text.strip().upper()
    units = {"KB": 1024, "K": 1024, "MB": 1024 * 1024, "M": 1024 * 1024}
    for suffix, mult in units.items():
        if t.endswith(suffix):
            num = t[: -len(suffix)]
            try:
                return int(num, 0) * mult
            except ValueError:
                break
    try:
        return int(t, 0)
    except ValueError:
        raise ChipError(f"not a size: {text!r}", hint="use a number (0x hex or decimal) or KB/MB") from None


@dataclass(frozen=True)
class ChipInfo:
    """What the connect banner and `chip-id`/`read-mac` report."""

    chip: str
    description: str
    features: list[str] = field(default_factory=list)
    crystal_mhz: int | None = None
    mac: str | None = None
    chip_id: int | None = None
    revision: int | None = None
    stub: bool = False


def format_mac(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)
