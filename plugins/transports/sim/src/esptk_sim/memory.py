"""The chip's address space as the loader sees it: RAM, ROM words, peripheral registers.

The SPI flash controller is modelled as a register file that acts only when the host writes the
CMD register with bit 18 (USR) set (PROTOCOL.md 6.4): the register writes before it may come in
any order.
"""

from __future__ import annotations

from collections.abc import Callable

from esptk.simchip import SimChip, SimDevice, SimRegion

SPI_USR = 1 << 18
RDID, RDSR, RDSR2, RDSR3, RDSFDP = 0x9F, 0x05, 0x35, 0x15, 0x5A


class AccessError(ValueError):
    """An address the chip has nothing at (or a misaligned word access)."""


class AddressSpace:
    def __init__(self, chip: SimChip, flash_id: Callable[[], int | None],
                 uart_divider: Callable[[], int]) -> None:
        self.chip = chip
        self._flash_id = flash_id
        self._uart_divider = uart_divider
        self._ram: dict[str, bytearray] = {}
        self.io: dict[int, int] = {}
        self.reset()

    def reset(self) -> None:
        """A chip reset: peripheral registers return to their initial values (RAM keeps its content)."""
        self.io = {}
        for dev in self.chip.devices:
            dev.reset()

    def _region(self, addr: int, length: int) -> SimRegion:
        r = self.chip.region(addr)
        if r is None or addr + length > r.end:
            raise AccessError(f"no memory at 0x{addr:08x}")
        return r

    def _ram_of(self, r: SimRegion) -> bytearray:
        buf = self._ram.get(r.name)
        if buf is None:
            buf = self._ram[r.name] = bytearray(r.end - r.start)
        return buf

    # --- peripheral models (contract D; minimal routing until the sim's own lands) -------------
    def _device(self, addr: int) -> tuple[SimDevice, int] | None:
        for start, end, primary in self.chip.aliases:
            if start <= addr < end:
                addr = addr - start + primary
                break
        for dev in self.chip.devices:
            if any(s <= addr < e for s, e in dev.windows):
                return dev, addr
        return None

    # --- words (READ_REG / WRITE_REG) --------------------------------------------------------
    def read_word(self, addr: int) -> int:
        if addr % 4:
            raise AccessError(f"misaligned word address 0x{addr:08x}")
        routed = self._device(addr)
        if routed is not None:
            return routed[0].read(routed[1])
        r = self._region(addr, 4)
        if r.kind == "ram":
            buf = self._ram_of(r)
            return int.from_bytes(buf[addr - r.start: addr - r.start + 4], "little")
        if addr == self.chip.uart_clkdiv_reg:
            return self._uart_divider()
        if r.kind == "io" and addr in self.io:
            return self.io[addr]
        return self.chip.registers.get(addr, 0)

    def write_word(self, addr: int, value: int, mask: int = 0xFFFFFFFF) -> None:
        if addr % 4:
            raise AccessError(f"misaligned word address 0x{addr:08x}")
        routed = self._device(addr)
        if routed is not None:
            dev, daddr = routed
            dev.write(daddr, (value & mask) | (dev.read(daddr) & ~mask & 0xFFFFFFFF))
            return
        r = self._region(addr, 4)
        if r.kind == "rom":
            return  # writes to mask ROM do nothing
        old = self.read_word(addr)
        new = (value & mask) | (old & ~mask & 0xFFFFFFFF)
        if r.kind == "ram":
            buf = self._ram_of(r)
            buf[addr - r.start: addr - r.start + 4] = new.to_bytes(4, "little")
            return
        self.io[addr] = new
        spi = self.chip.spi
        if addr == spi.base + spi.cmd and new & SPI_USR:
            self._spi_user_command()
            self.io[addr] = new & ~SPI_USR

    # --- bytes (MEM_DATA) -------------------------------------------------------------------
    def is_ram(self, addr: int, length: int) -> bool:
        r = self.chip.region(addr)
        return r is not None and r.kind == "ram" and addr + length <= r.end

    def write_bytes(self, addr: int, data: bytes) -> None:
        r = self._region(addr, len(data))
        if r.kind != "ram":
            raise AccessError(f"0x{addr:08x} is not RAM")
        self._ram_of(r)[addr - r.start: addr - r.start + len(data)] = data

    def read_bytes(self, addr: int, length: int) -> bytes:
        r = self._region(addr, length)
        if r.kind == "ram":
            return bytes(self._ram_of(r)[addr - r.start: addr - r.start + length])
        return b"".join(self.read_word(a).to_bytes(4, "little") for a in range(addr, addr + length, 4))[:length]

    # --- SPI flash controller -----------------------------------------------------------------
    def _spi_user_command(self) -> None:
        spi = self.chip.spi
        opcode = self.io.get(spi.base + spi.usr2, 0) & 0xFF
        jedec = self._flash_id()
        if jedec is None:  # flash not attached: the data line floats high
            result = 0xFFFFFFFF
        elif opcode == RDID:
            result = jedec & 0xFFFFFF
        elif opcode in (RDSR, RDSR2, RDSR3):
            result = 0
        elif opcode == RDSFDP:
            result = 0xFFFFFFFF  # no SFDP table: the host falls back to the JEDEC id
        else:
            return  # write enable, reset, wake-up ...: nothing to read back
        self.io[spi.base + spi.w0] = result
