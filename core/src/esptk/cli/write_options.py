"""write-flash options esptool users type: ``--skip-flashed``, ``--diff-with`` (with
``--trust-flash-content``) and ``--spi-connection``/``-sc``.

These follow esptool's behaviour; esptk's own "write only changed sectors" is a separate feature.
"""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..flasher import Region
    from ..session import Session

SECTOR = 0x1000
#: GPIOs esptool's command line allows in a custom SPI pin map
SPI_GPIOS = set(range(30)) | {32, 33}


def parse_spi_connection(value: str) -> int:
    """SPI -> 0, HSPI -> 1, ``CLK,Q,D,HD,CS`` -> the packed SPI_ATTACH word (PROTOCOL.md 6.2.5)."""
    v = value.strip().upper()
    if v == "SPI":
        return 0
    if v == "HSPI":
        return 1
    parts = v.split(",")
    try:
        pins = [int(p, 0) for p in parts]
    except ValueError:
        pins = []
    if len(pins) != 5 or any(p not in SPI_GPIOS for p in pins):
        raise UsageError(f"--spi-connection '{value}' is not SPI, HSPI or CLK,Q,D,HD,CS",
                         hint="five GPIO numbers (0-29, 32, 33), e.g. -sc 6,17,8,11,16")
    clk, q, d, hd, cs = pins
    return hd << 24 | cs << 18 | d << 12 | q << 6 | clk


def attach_pins(s: Session, pins: int) -> None:
    """SPI_ATTACH with a pin map (a ROM takes 4 more bytes than a stub)."""
    from ..protocol import op

    payload = struct.pack("<I", pins) + (b"" if s.stub else bytes(4))
    s.loader.command(op.SPI_ATTACH, payload)
    s.flash_attached = True


def _md5(s: Session, region: Region) -> str | None:
    from ..flasher import flash_md5

    if not s.flash.md5:
        return None
    return flash_md5(s, region.address, len(region.data)).hex()


def skip_flashed(s: Session, regions: list[Region]) -> list[Region]:
    """The regions whose bytes are not in flash already (``--skip-flashed``)."""
    if not s.flash.md5:
        s.progress.warn("--skip-flashed needs the flash MD5 (use the stub): writing everything")
        return regions
    todo = []
    for r in regions:
        if _md5(s, r) == hashlib.md5(r.data).hexdigest():
            s.progress.note(f"'{r.name}' at 0x{r.address:08x} already in flash, skipping write.")
        else:
            todo.append(r)
    return todo


def diff_with(s: Session, regions: list[Region], old_files: list[str],
              trust: bool) -> tuple[list[Region], list[Region]]:
    """(regions to write, regions written only in part) for ``--diff-with OLD ...`` (``skip`` for none).

    The flash must hold the old file (checked by MD5 unless ``trust``); then only the 4 KiB sectors
    in which old and new differ are written. Where the flash does not hold the old file the whole
    new file is written.
    """
    from ..fileio import read_file
    from ..flasher import Region

    if len(old_files) > len(regions):
        raise UsageError(f"{len(old_files)} --diff-with files for {len(regions)} files to write",
                         hint="give one old file per ADDRESS FILE pair, or 'skip'")
    out: list[Region] = []
    partial: list[Region] = []
    for i, r in enumerate(regions):
        old_name = old_files[i] if i < len(old_files) else "skip"
        if old_name == "skip":
            out.append(r)
            continue
        old = read_file(old_name)
        if not trust:
            got = _md5(s, Region(r.address, old, old_name))
            if got != hashlib.md5(old).hexdigest():
                s.progress.warn(f"flash at 0x{r.address:08x} does not hold {old_name}: writing all of {r.name}")
                out.append(r)
                continue
        runs = changed_runs(r.address, old, r.data)
        if not runs:
            s.progress.note(f"'{r.name}' at 0x{r.address:08x} is unchanged, skipping write.")
            continue
        n = sum(len(d) for _a, d in runs)
        s.progress.note(f"Reflashing {n} changed bytes of {r.name} in {len(runs)} run(s) at 0x{runs[0][0]:08x}...")
        out += [Region(a, d, r.name) for a, d in runs]
        partial.append(r)
    return out, partial


def changed_runs(address: int, old: bytes, new: bytes) -> list[tuple[int, bytes]]:
    """Runs of whole flash sectors (clipped to the file) in which ``new`` differs from ``old``."""
    end = address + len(new)
    runs: list[tuple[int, bytes]] = []
    start = None
    sector = address - address % SECTOR
    while sector < end:
        lo, hi = max(sector, address) - address, min(sector + SECTOR, end) - address
        differs = new[lo:hi] != old[lo:hi]
        if differs and start is None:
            start = lo
        if not differs and start is not None:
            runs.append((address + start, new[start:lo]))
            start = None
        sector += SECTOR
    if start is not None:
        runs.append((address + start, new[start:]))
    return runs
