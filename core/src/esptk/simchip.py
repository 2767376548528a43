"""What a chip plugin tells the virtual chip (``sim://``) about its chip.

The engine in ``esptk_sim`` never names a chip: everything chip-specific reaches it through a
:class:`SimChip` that a chip plugin returns from the ``esptk_sim_chip`` hook. A SimChip is mostly
data (status byte count, commands the ROM has, memory layout, initial register words derived from
the configured MAC); the few behaviours that differ between ROMs are methods a plugin may override.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .chip import SpiRegisters

SECTOR = 0x1000

#: flash size by JEDEC capacity byte (PROTOCOL.md 6.5)
CAPACITY_SIZES: dict[int, int] = {
    **{0x12 + i: (256 * 1024) << i for i in range(11)},  # 0x12 256KB ... 0x1C 256MB
    **{0x32 + i: (256 * 1024) << i for i in range(9)},  # 0x32 256KB ... 0x3A 64MB
    0x20: 64 << 20, 0x21: 128 << 20, 0x22: 256 << 20,
}


def flash_size_from_id(jedec_id: int) -> int | None:
    """Flash bytes for a JEDEC id (``0x1640EF``: capacity byte 0x16 → 4 MiB), None if unknown."""
    if jedec_id & 0xFF == 0x1F:  # Adesto encodes the size differently
        code = (jedec_id >> 8) & 0x1F
        return (256 * 1024) << (code - 3) if 4 <= code <= 9 else None
    return CAPACITY_SIZES.get((jedec_id >> 16) & 0xFF)


@dataclass(frozen=True)
class SimRegion:
    """A window of the chip's address space the virtual chip answers for.

    ``kind``: ``ram`` (readable and writable, zero at reset), ``rom`` (readable, writes ignored,
    reads return words from ``SimChip.registers`` or 0), ``io`` (peripheral registers: reads return
    the last written value or the initial value from ``SimChip.registers``).
    """

    name: str
    start: int
    end: int  #: exclusive
    kind: str

    def __contains__(self, addr: object) -> bool:
        return isinstance(addr, int) and self.start <= addr < self.end


def program_digest(segments: Iterable[tuple[int, bytes]]) -> str:
    """SHA-256 (hex) that names a RAM program: for each segment in address order, its u32 LE
    address, u32 LE length and bytes. The virtual chip recognises flasher stubs by it."""
    h = hashlib.sha256()
    for addr, data in sorted(segments, key=lambda s: s[0]):
        h.update(addr.to_bytes(4, "little") + len(data).to_bytes(4, "little"))
        h.update(data)
    return h.hexdigest()


class SimDevice:
    """A peripheral model a chip plugin attaches to the virtual chip (an eFuse controller, ...).

    The address space sends every word access inside one of ``windows`` (``(start, end)``,
    end exclusive, in the primary address view) here instead of to its register file. A device is
    created once per virtual chip and lives as long as it (its state survives chip resets unless
    :meth:`reset` clears it, as hardware state would).
    """

    windows: tuple[tuple[int, int], ...] = ()

    def read(self, addr: int) -> int:
        """The 32-bit word at ``addr`` (word-aligned, inside a window)."""
        return 0

    def write(self, addr: int, value: int) -> None:
        """A 32-bit write of ``value`` at ``addr`` (the mask is already applied)."""

    def reset(self) -> None:
        """A chip reset (EN pin, watchdog, software reset)."""

    def close(self) -> None:
        """The virtual chip is closed: persist state if the device keeps any."""


@dataclass
class SimChip:
    """The facts of one chip model that a virtual chip needs.

    Addresses and layouts are those of PROTOCOL.md; ``registers`` carries every word the model
    should return on READ_REG before anything was written (magic value, eFuse/OTP words for the
    configured MAC, dates, calibration values).
    """

    name: str
    #: status bytes after the data of a ROM reply (the stub always sends 2)
    rom_status_bytes: int
    #: opcodes the ROM loader implements; others are answered with [1, 0x05]
    rom_commands: frozenset[int]
    #: the address space: anything outside every region is refused with an error status
    regions: tuple[SimRegion, ...]
    #: initial 32-bit words by address (registers, eFuse words, ROM words such as the magic)
    registers: Mapping[int, int]
    #: the value field of the ROM's SYNC replies (non-zero)
    sync_value: int
    #: UART clock divider register and the clock it divides: divider = uart_clock_hz / baud
    uart_clkdiv_reg: int
    uart_clock_hz: int
    #: SPI flash controller used for "user" commands such as RDID
    spi: SpiRegisters
    #: the baud rate at which the ROM prints its boot log
    boot_log_baud: int = 115200
    #: the ROM refuses flash commands until SPI_ATTACH (ESP32)
    rom_needs_attach: bool = False
    #: FLASH_BEGIN attaches the flash (ESP8266 ROM, which has no SPI_ATTACH)
    rom_begin_attaches: bool = False
    #: flash bytes the ROM addresses before SPI_SET_PARAMS (None: the whole chip)
    rom_default_flash_size: int | None = None
    #: noise the ROM's UART sends right after switching baud (a real ESP32 sends a stray 0x20)
    rom_baud_change_noise: bytes = b""
    #: peripheral models that answer for their address windows
    devices: tuple[SimDevice, ...] = ()
    #: other views of the same registers: (alias_start, alias_end, primary_start), end exclusive;
    #: an access at ``a`` in the alias is an access at ``a - alias_start + primary_start``
    aliases: tuple[tuple[int, int, int], ...] = ()
    #: flasher stubs this chip's loaders may run, by :func:`program_digest` -> loader name
    #: ("esptk-stub", "esptool-stub", or "esptk-stage1": esptk's stage-1 loader, StubImage.stage1);
    #: any other program started by MEM_END is not a loader
    flasher_stubs: Mapping[str, str] = field(default_factory=dict)

    def boot_log(self, reason: str, download: bool) -> bytes:
        """The text the ROM prints after a reset, at ``boot_log_baud``.

        ``reason``: ``poweron`` (EN pin, power up) or ``software`` (a software reset);
        ``download``: GPIO0 was low, the ROM loader waits for a host (else it boots from flash).
        """
        return b""

    def rom_erase_range(self, offset: int, erase_size: int) -> tuple[int, int]:
        """(start, length) the ROM erases for FLASH_BEGIN(erase_size, offset), whole sectors.

        Default: the sectors covering ``[offset, offset + erase_size)``.
        """
        start = offset - offset % SECTOR
        if erase_size <= 0:
            return start, 0
        end = offset + erase_size
        end += -end % SECTOR
        return start, max(0, end - start)

    def flash_encrypt(self, address: int, data: bytes) -> bytes | None:
        """``data`` as the chip's flash-encryption engine writes it at ``address`` (a multiple of 32),
        or ``None`` when the chip cannot encrypt (no engine, no key burnt): encrypted writes
        (FLASH_BEGIN with its 5th word 1) are then refused."""
        return None

    def region(self, addr: int) -> SimRegion | None:
        for r in self.regions:
            if addr in r:
                return r
        return None
