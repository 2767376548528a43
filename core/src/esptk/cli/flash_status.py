"""``read-flash-status``, ``write-flash-status`` and ``read-flash-sfdp`` (esptool's commands), through the
SPI controller's user commands (PROTOCOL.md 6.4)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import UsageError
from ..fileio import parse_int
from ..spiflash import run_command
from .connect import session, state_of
from .device import JsonOpt, _emit

RDSR = (0x05, 0x35, 0x15)  #: read status register 1, 2, 3
WRSR = (0x01, 0x31, 0x11)  #: write status register 1, 2, 3
WREN, WEVSR, WRDI, RDSFDP = 0x06, 0x50, 0x04, 0x5A

Bytes = Annotated[int, typer.Option("--bytes", help="Status bytes (1-3).")]


def register(app: typer.Typer) -> None:
    app.command("read-flash-status")(read_flash_status)
    app.command("write-flash-status")(write_flash_status)
    app.command("read-flash-sfdp")(read_flash_sfdp)


def _check_bytes(n: int) -> None:
    if n not in (1, 2, 3):
        raise UsageError(f"--bytes {n} is not 1, 2 or 3")


def _status(s: object, n: int) -> int:
    value = 0
    for i in range(n):
        value |= run_command(s.loader, s.chip.spi, RDSR[i], read_bits=8) << (8 * i)  # type: ignore[attr-defined]
    return value


def _hex(value: int, n: int) -> str:
    return f"0x{value:04x}"  # esptool shows at least 4 digits whatever --bytes is


def read_flash_status(ctx: typer.Context, nbytes: Bytes = 2, as_json: JsonOpt = False) -> None:
    """Read the SPI flash status register (1-3 bytes)."""
    _check_bytes(nbytes)
    with session(ctx) as s:
        s.attach_flash()
        value = _status(s, nbytes)
    _emit(ctx, as_json, {"status": value, "bytes": nbytes}, [f"Flash memory status: {_hex(value, nbytes)}"])


def write_flash_status(ctx: typer.Context, value: str, nbytes: Bytes = 2,
                       non_volatile: Annotated[bool, typer.Option(
                           "--non-volatile", help="Write the non-volatile bits (use with care).")] = False,
                       as_json: JsonOpt = False) -> None:
    """Write the SPI flash status register (volatile bits unless --non-volatile)."""
    _check_bytes(nbytes)
    new = parse_int(value, "value")
    if not 0 <= new < 1 << (8 * nbytes):
        raise UsageError(f"value 0x{new:x} does not fit in {nbytes} status byte(s)")
    with session(ctx) as s:
        s.attach_flash()
        before = _status(s, nbytes)
        for i in range(nbytes):
            run_command(s.loader, s.chip.spi, WREN if non_volatile else WEVSR)
            run_command(s.loader, s.chip.spi, WRSR[i], data=bytes([(new >> (8 * i)) & 0xFF]))
        run_command(s.loader, s.chip.spi, WRDI)
        after = _status(s, nbytes)
    lines = [f"Initial flash memory status: {_hex(before, nbytes)}",
             f"Setting flash memory status: {_hex(new, nbytes)}",
             f"After flash memory status:   {_hex(after, nbytes)}"]
    _emit(ctx, as_json, {"before": before, "value": new, "after": after, "bytes": nbytes}, lines)


def read_flash_sfdp(ctx: typer.Context, address: str, size: str, as_json: JsonOpt = False) -> None:
    """Read SIZE bytes (1-4) of the flash's SFDP table at ADDRESS."""
    addr, n = parse_int(address, "address"), parse_int(size, "size")
    if not 1 <= n <= 4:
        raise UsageError(f"size {n} is not 1 to 4", hint="read-flash-sfdp reads at most 4 bytes at a time")
    if not 0 <= addr < 1 << 24:
        raise UsageError(f"SFDP address 0x{addr:x} does not fit in 24 bits")
    with session(ctx) as s:
        s.attach_flash()
        # 24-bit address, then 8 dummy clocks, then the data
        word = run_command(s.loader, s.chip.spi, RDSFDP, read_bits=8 * n, data=addr.to_bytes(3, "big") + b"\0")
    data = word.to_bytes(4, "little")[:n]
    text = f"Flash memory SFDP[{addr}..{addr + n - 1}]: " + " ".join(f"0x{b:02x}" for b in data)
    if as_json or state_of(ctx).json:
        _emit(ctx, True, {"address": addr, "data": data.hex()}, [])
    else:
        _emit(ctx, False, {}, [text])
