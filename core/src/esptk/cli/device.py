"""Commands that identify a chip and access its memory."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from .. import __version__
from ..chip import ChipSpec, format_mac
from ..errors import CommandFailed, ImageError, UsageError
from ..fileio import read_file, write_atomic
from ..spiflash import size_name
from . import checks, console
from .connect import session, state_of

if TYPE_CHECKING:
    from ..plugins import Registry


def register(app: typer.Typer) -> None:
    for name, fn in (("chip-id", chip_id), ("read-mac", read_mac), ("flash-id", flash_id),
                     ("read-mem", read_mem), ("write-mem", write_mem), ("dump-mem", dump_mem),
                     ("load-ram", load_ram), ("run", run), ("version", version)):
        app.command(name)(fn)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the results.")]


def _emit(ctx: typer.Context, as_json: bool, data: dict[str, object], lines: list[str]) -> None:
    if as_json or state_of(ctx).json:
        console.out_json(data)
    else:
        for line in lines:
            console.out(line)


def read_mac(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print the chip's factory MAC address."""
    with session(ctx, use_stub=False) as s:
        mac = format_mac(s.chip.read_mac(s.loader))
    _emit(ctx, as_json, {"chip": s.chip.name, "mac": mac}, [f"MAC: {mac}"])


def chip_id(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print the chip id (chips without one print their MAC instead)."""
    with session(ctx, use_stub=False) as s:
        cid = s.chip.read_chip_id(s.loader)
        mac = format_mac(s.chip.read_mac(s.loader))
    if cid is None:
        console.warn(f"{s.chip.description} has no chip id; showing its MAC instead")
        _emit(ctx, as_json, {"chip": s.chip.name, "chip_id": None, "mac": mac}, [f"MAC: {mac}"])
    else:
        _emit(ctx, as_json, {"chip": s.chip.name, "chip_id": cid, "mac": mac}, [f"Chip ID: 0x{cid:08x}"])


def flash_id(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print the SPI flash JEDEC id and the size it implies."""
    from ..flasher import detect_flash_size

    with session(ctx) as s:
        jedec, size = detect_flash_size(s)
    manu, dev = jedec & 0xFF, (jedec >> 8) & 0xFFFF
    device = ((dev & 0xFF) << 8) | (dev >> 8)
    _emit(ctx, as_json,
          {"chip": s.chip.name, "flash_id": jedec, "manufacturer": manu, "device": device, "size": size,
           "size_name": size_name(size)},
          [f"Manufacturer: {manu:02x}", f"Device: {device:04x}", f"Detected flash size: {size_name(size)}"])


@contextlib.contextmanager
def _memory(addr: int, verb: str) -> Iterator[None]:
    try:
        yield
    except CommandFailed as e:
        raise CommandFailed(f"cannot {verb} 0x{addr:08x}: {e.message}", e.status,
                            hint="is the address inside the chip's memory map and word-aligned?") from e


def read_mem(ctx: typer.Context, address: str, as_json: JsonOpt = False) -> None:
    """Read one 32-bit word of memory (or a register)."""
    addr = checks.u32(address, "address")
    with session(ctx, use_stub=False) as s, _memory(addr, "read"):
        value = s.loader.read_reg(addr)
    _emit(ctx, as_json, {"address": addr, "value": value}, [f"0x{addr:08x} = 0x{value:08x}"])


def write_mem(ctx: typer.Context, address: str, value: str,
              mask: Annotated[str, typer.Argument(help="Bits to change.")] = "0xFFFFFFFF",
              as_json: JsonOpt = False) -> None:
    """Write a 32-bit word of memory (bits outside MASK keep their value)."""
    addr, val, msk = checks.u32(address, "address"), checks.u32(value, "value"), checks.u32(mask, "mask")
    with session(ctx, use_stub=False) as s, _memory(addr, "write"):
        s.loader.write_reg(addr, val, msk)
        after = s.loader.read_reg(addr)
    _emit(ctx, as_json, {"address": addr, "value": val, "mask": msk, "read_back": after},
          [f"Wrote 0x{val:08x}, mask 0x{msk:08x} to 0x{addr:08x}; it reads 0x{after:08x}"])


def dump_mem(ctx: typer.Context, address: str, size: str, filename: str,
             no_progress: Annotated[bool, typer.Option("--no-progress")] = False,
             as_json: JsonOpt = False) -> None:
    """Read SIZE bytes of memory at ADDRESS (word by word) into FILENAME."""
    addr, n = checks.u32(address, "address"), checks.size(size)
    if addr % 4 or n % 4:
        raise UsageError(f"dump-mem 0x{addr:x}+0x{n:x}: address and size must be multiples of 4",
                         hint="memory is read in 32-bit words")
    if addr + n > checks.U32 + 1:
        raise UsageError(f"dump-mem 0x{addr:x}+0x{n:x} ends past the 32-bit address space",
                         hint="check the address and the size")
    checks.output_path(filename)
    buf = bytearray()
    with session(ctx, use_stub=False, no_progress=no_progress) as s:
        s.progress.start(f"Reading memory at 0x{addr:08x}", n)
        for off in range(0, n, 4):
            with _memory(addr + off, "read"):
                buf += struct.pack("<I", s.loader.read_reg(addr + off))
            if off % 1024 == 0:
                s.progress.advance(off)
        s.progress.advance(n)
        s.progress.finish(f"Read {n} bytes at 0x{addr:08x} into {filename}")
    write_atomic(filename, bytes(buf))
    _emit(ctx, as_json, {"address": addr, "size": n, "file": filename}, [])


def load_ram(ctx: typer.Context, filename: str, as_json: JsonOpt = False) -> None:
    """Load an image's segments into RAM and run it (the chip stays in RAM code)."""
    from ..session import load_ram_segments

    data = read_file(filename, "image")
    st = state_of(ctx)
    if st.chip != "auto":  # the chip is known: refuse a bad image before connecting
        ram_segments(st.registry, checks.chip(st), data, filename)
    with session(ctx, use_stub=False) as s:
        entry, segments = ram_segments(s.registry, s.chip, data, filename)
        s.progress.note(f"Loading {len(segments)} segments, entry 0x{entry:08x}")
        load_ram_segments(s, segments, entry)
        console.info("All segments loaded; running the program")
    _emit(ctx, as_json, {"entry": entry, "segments": [{"address": a, "size": len(d)} for a, d in segments]}, [])


def ram_segments(registry: Registry, chip: ChipSpec, data: bytes, name: str) -> tuple[int, list[tuple[int, bytes]]]:
    """(entry, [(address, bytes)]) of an image whose segments all load into RAM."""
    try:
        info = registry.chip_hook(chip).esptk_read_image(chip=chip, data=data)
    except ImageError as e:  # the file given is not such an image: the user's input
        raise UsageError(f"{name}: {e.message}", hint=e.hint) from None
    if info is None:
        raise UsageError(f"no plugin reads {chip.description} images")
    segs = []
    for seg in info.segments:
        start = seg.file_offset + 8
        if seg.addr == 0:  # a padding segment
            continue
        if any(r in ("IROM", "DROM") for r in seg.regions) and not any("RAM" in r for r in seg.regions):
            raise UsageError(f"{name}: segment at 0x{seg.addr:08x} ({'/'.join(seg.regions)}) is not in RAM",
                             hint="load-ram takes images whose segments are all RAM segments")
        segs.append((seg.addr, data[start : start + seg.length]))
    return info.entry, segs


def run(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Leave the loader and run the application in flash."""
    with session(ctx, use_stub=False) as s:
        s.soft_reset()
        console.info("Running the application")
    _emit(ctx, as_json, {"chip": s.chip.name, "running": True}, [])


def version(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print esptk's version."""
    _emit(ctx, as_json, {"version": __version__}, [f"esptk {__version__}"])
