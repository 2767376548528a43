"""SPI flash "user commands" through the controller registers (PROTOCOL.md sections 6.4–6.5).

Generic: the register layout comes from :attr:`ChipSpec.spi <esptk.chip.ChipSpec.spi>`.
"""

from __future__ import annotations

from .chip import RegisterAccess, SpiRegisters
from .errors import ProtocolError

RDID = 0x9F
USR_COMMAND = 1 << 31
USR_MISO = 1 << 28
USR_MOSI = 1 << 27
CMD_USR = 1 << 18

#: JEDEC capacity byte -> size in bytes
_MB = 1024 * 1024
DETECTED_SIZES = {
    0x12: 256 * 1024, 0x13: 512 * 1024, 0x14: _MB, 0x15: 2 * _MB, 0x16: 4 * _MB, 0x17: 8 * _MB,
    0x18: 16 * _MB, 0x19: 32 * _MB, 0x1A: 64 * _MB, 0x1B: 128 * _MB, 0x1C: 256 * _MB,
    0x20: 64 * _MB, 0x21: 128 * _MB, 0x22: 256 * _MB, 0x32: 256 * 1024, 0x33: 512 * 1024, 0x34: _MB,
    0x35: 2 * _MB, 0x36: 4 * _MB, 0x37: 8 * _MB, 0x38: 16 * _MB, 0x39: 32 * _MB, 0x3A: 64 * _MB,
}
ADESTO = 0x1F
ADESTO_SIZES = {0x04: 512 * 1024, 0x05: _MB, 0x06: 2 * _MB, 0x07: 4 * _MB, 0x08: 8 * _MB, 0x09: 16 * _MB}


def run_command(regs: RegisterAccess, spi: SpiRegisters, opcode: int, read_bits: int = 0,
                data: bytes = b"") -> int:
    """Run one SPI command and return up to 32 bits read back."""
    base = spi.base
    old_usr = regs.read_reg(base + spi.usr)
    old_usr2 = regs.read_reg(base + spi.usr2)
    mosi_bits = len(data) * 8
    if spi.miso_dlen is not None and spi.mosi_dlen is not None:
        if read_bits:
            regs.write_reg(base + spi.miso_dlen, read_bits - 1)
        if mosi_bits:
            regs.write_reg(base + spi.mosi_dlen, mosi_bits - 1)
    else:
        usr1 = ((read_bits - 1) << 8 if read_bits else 0) | ((mosi_bits - 1) << 17 if mosi_bits else 0)
        regs.write_reg(base + spi.usr1, usr1)
    flags = USR_COMMAND | (USR_MISO if read_bits else 0) | (USR_MOSI if mosi_bits else 0)
    regs.write_reg(base + spi.usr, flags)
    regs.write_reg(base + spi.usr2, (7 << 28) | opcode)
    if not data:
        regs.write_reg(base + spi.w0, 0)
    else:
        padded = data + b"\0" * (-len(data) % 4)
        for i in range(0, len(padded), 4):
            regs.write_reg(base + spi.w0 + i, int.from_bytes(padded[i : i + 4], "little"))
    regs.write_reg(base + spi.cmd, CMD_USR)
    for _ in range(10):
        if not regs.read_reg(base + spi.cmd) & CMD_USR:
            break
    else:
        raise ProtocolError("SPI command did not complete", hint="is the flash attached and powered?")
    result = regs.read_reg(base + spi.w0)
    regs.write_reg(base + spi.usr, old_usr)
    regs.write_reg(base + spi.usr2, old_usr2)
    return result & ((1 << read_bits) - 1 if read_bits < 32 else 0xFFFFFFFF)


def read_jedec_id(regs: RegisterAccess, spi: SpiRegisters) -> int:
    """24-bit JEDEC id: manufacturer in bits 0–7, memory type 8–15, capacity 16–23."""
    return run_command(regs, spi, RDID, read_bits=24)


def size_from_id(jedec: int) -> int | None:
    """Flash size in bytes from a JEDEC id, or None if unknown."""
    manufacturer = jedec & 0xFF
    if manufacturer == ADESTO:
        return ADESTO_SIZES.get((jedec >> 8) & 0x1F)
    return DETECTED_SIZES.get((jedec >> 16) & 0xFF)


def size_name(size: int) -> str:
    return f"{size // _MB}MB" if size >= _MB else f"{size // 1024}KB"
