"""The chip's address space as the loader sees it: RAM, ROM words, peripheral registers, devices.

An access first goes through the chip's alias views (``SimChip.aliases``: the same register
reachable at two addresses), then to a peripheral model whose window holds it
(``SimChip.devices``), else to the region of the memory map that holds it. Where nothing
answers at all, the CPU takes a load/store exception (:class:`BusFault`; PROTOCOL.md section 14).

The SPI flash controller is modelled as a register file that acts only when the host writes the
CMD register with bit 18 (USR) set (PROTOCOL.md 6.4): the register writes before it may come in
any order.
"""

from __future__ import annotations

from collections.abc import Callable

from esptk.simchip import SimChip, SimDevice, SimRegion

from .sfdp import sfdp_read

SPI_USR = 1 << 18
RDID, RDSR, RDSR2, RDSR3, RDSFDP = 0x9F, 0x05, 0x35, 0x15, 0x5A
SPI_BUFFER = 64  #: bytes of W0..W15


class AccessError(ValueError):
    """A byte range that is not RAM (MEM_BEGIN/MEM_DATA outside RAM: the loader checks these)."""


class BusFault(Exception):
    """Nothing answers at this address, or a word access is misaligned: the CPU takes an exception."""

    def __init__(self, addr: int, why: str) -> None:
        super().__init__(f"{why} at 0x{addr:08x}")
        self.addr = addr


class AddressSpace:
    def __init__(self, chip: SimChip, flash_id: Callable[[], int | None],
                 uart_divider: Callable[[], int], flash_size: Callable[[], int] | None = None) -> None:
        self.chip = chip
        self._flash_id = flash_id
        self._flash_size = flash_size or (lambda: 4 * 1024 * 1024)
        self._uart_divider = uart_divider
        self._ram: dict[str, bytearray] = {}
        self.io: dict[int, int] = {}
        self.reset()

    def reset(self) -> None:
        """A chip reset: peripheral registers return to their initial values (RAM keeps its content)."""
        self.io = {}
        for dev in self.chip.devices:
            dev.reset()

    # --- routing ------------------------------------------------------------------------------
    def primary(self, addr: int) -> int:
        """The address in the primary view (alias views translated)."""
        for start, end, target in self.chip.aliases:
            if start <= addr < end:
                return addr - start + target
        return addr

    def _device(self, addr: int) -> SimDevice | None:
        for dev in self.chip.devices:
            if any(start <= addr < end for start, end in dev.windows):
                return dev
        return None

    def _region(self, addr: int, length: int) -> SimRegion:
        r = self.chip.region(addr)
        if r is None or addr + length > r.end:
            raise AccessError(f"no RAM at 0x{addr:08x}")
        return r

    def _ram_of(self, r: SimRegion) -> bytearray:
        buf = self._ram.get(r.name)
        if buf is None:
            buf = self._ram[r.name] = bytearray(r.end - r.start)
        return buf

    def _word_target(self, addr: int) -> tuple[int, SimDevice | None, SimRegion | None]:
        if addr % 4:
            raise BusFault(addr, "misaligned word access")
        a = self.primary(addr)
        dev = self._device(a)
        if dev is not None:
            return a, dev, None
        r = self.chip.region(a)
        if r is None:
            raise BusFault(addr, "no memory or peripheral answers")
        return a, None, r

    # --- words (READ_REG / WRITE_REG) --------------------------------------------------------
    def read_word(self, addr: int) -> int:
        a, dev, r = self._word_target(addr)
        if dev is not None:
            return dev.read(a) & 0xFFFFFFFF
        assert r is not None
        if r.kind == "ram":
            buf = self._ram_of(r)
            return int.from_bytes(buf[a - r.start: a - r.start + 4], "little")
        if a == self.chip.uart_clkdiv_reg:
            return self._uart_divider()
        if r.kind == "io" and a in self.io:
            return self.io[a]
        return self.chip.registers.get(a, 0)

    def write_word(self, addr: int, value: int, mask: int = 0xFFFFFFFF) -> None:
        a, dev, r = self._word_target(addr)
        old = self.read_word(addr)
        new = (value & mask) | (old & ~mask & 0xFFFFFFFF)
        if dev is not None:
            dev.write(a, new)
            return
        assert r is not None
        if r.kind == "rom":
            return  # mask ROM, and holes where the bus answers: writes do nothing
        if r.kind == "ram":
            buf = self._ram_of(r)
            buf[a - r.start: a - r.start + 4] = new.to_bytes(4, "little")
            return
        self.io[a] = new
        spi = self.chip.spi
        if a == spi.base + spi.cmd and new & SPI_USR:
            self._spi_user_command()
            self.io[a] = new & ~SPI_USR

    # --- bytes (MEM_DATA) -------------------------------------------------------------------
    def is_ram(self, addr: int, length: int) -> bool:
        a = self.primary(addr)
        r = self.chip.region(a)
        return r is not None and r.kind == "ram" and a + length <= r.end

    def write_bytes(self, addr: int, data: bytes) -> None:
        a = self.primary(addr)
        r = self._region(a, len(data))
        if r.kind != "ram":
            raise AccessError(f"0x{addr:08x} is not RAM")
        self._ram_of(r)[a - r.start: a - r.start + len(data)] = data

    def read_bytes(self, addr: int, length: int) -> bytes:
        a = self.primary(addr)
        r = self._region(a, length)
        if r.kind == "ram":
            return bytes(self._ram_of(r)[a - r.start: a - r.start + length])
        return b"".join(self.read_word(w).to_bytes(4, "little") for w in range(a, a + length, 4))[:length]

    # --- SPI flash controller -----------------------------------------------------------------
    def _spi_user_command(self) -> None:
        spi = self.chip.spi
        reg = self.io.get
        opcode = reg(spi.base + spi.usr2, 0) & 0xFF
        jedec = self._flash_id()
        if jedec is None:  # flash not attached: the data line floats high
            data = b"\xff" * 4
        elif opcode == RDID:
            data = (jedec & 0xFFFFFF).to_bytes(4, "little")
        elif opcode in (RDSR, RDSR2, RDSR3):
            data = bytes(4)
        elif opcode == RDSFDP:
            usr1 = reg(spi.base + spi.usr1, 0)
            addr_bits = (usr1 >> 26) + 1
            addr = (reg(spi.base + spi.addr, 0) >> (32 - addr_bits)) & 0xFFFFFF if addr_bits <= 32 else 0
            if spi.miso_dlen is not None:
                bits = (reg(spi.base + spi.miso_dlen, 0) & 0xFFFFFF) + 1
            else:  # ESP8266: USR1 bits 8..16 hold the MISO bit count - 1
                bits = ((usr1 >> 8) & 0x1FF) + 1
            length = min(SPI_BUFFER, (bits + 7) // 8)
            data = sfdp_read(self._flash_size(), addr, length).ljust(4, b"\x00")
        else:
            return  # write enable, reset, wake-up ...: nothing to read back
        data += bytes(-len(data) % 4)
        for i in range(0, len(data), 4):
            self.io[spi.base + spi.w0 + i] = int.from_bytes(data[i: i + 4], "little")
