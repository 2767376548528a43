"""Which parts of a flash region already hold the bytes to be written.

``write-flash`` writes only what differs, and an interrupted write resumes where it stopped, without
the old file: the chip hashes its own flash and the host compares with the new bytes.

The region is cut at 4 KiB sector boundaries into *chunks* (whole sectors, plus a partial chunk at
either end when the region is not sector-aligned). Two ways to find the chunks that differ:

* esptk's stub (capability ``caps.SECTOR_MD5``): one SECTOR_MD5 command returns the MD5 of up to 1024
  whole sectors; partial chunks are hashed with SPI_FLASH_MD5 over exactly their bytes;
* any loader with SPI_FLASH_MD5 (ROM32, esptool's stubs): bisection, level by level. A level where
  more than three quarters of the ranges differ ends the search (everything left is written), so a
  blank or wholly changed region costs three MD5 commands, one changed sector about 2·log2(n).

Loaders without MD5 (the ESP8266 ROM) cannot compare: everything is written.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .protocol import caps, op
from .protocol import timeouts as T

if TYPE_CHECKING:
    from .session import Session

SECTOR = 0x1000
#: sectors one SECTOR_MD5 command may cover (the reply is 16 bytes per sector)
MAX_SECTORS = 1024
#: a bisection level where more than this share of ranges differ stops the search
GIVE_UP_SHARE = 0.75


@dataclass(frozen=True)
class Plan:
    """What to write of a region: ``runs`` are (offset into the data, length), in address order."""

    runs: tuple[tuple[int, int], ...]
    chunks: int  #: sector chunks the region spans
    unchanged: int  #: chunks found already holding the bytes
    method: str  #: "sector-md5", "bisect-md5", or why nothing was compared
    commands: int = 0  #: hash commands sent to find out

    @property
    def bytes_to_write(self) -> int:
        return sum(n for _, n in self.runs)


def chunk_bounds(addr: int, size: int) -> list[tuple[int, int]]:
    """The region ``[addr, addr+size)`` cut at sector boundaries: (start, end) addresses."""
    out = []
    a, end = addr, addr + size
    while a < end:
        b = min(end, (a // SECTOR + 1) * SECTOR)
        out.append((a, b))
        a = b
    return out


def can_compare(s: Session) -> bool:
    return bool(s.flash.md5)


def has_sector_md5(s: Session) -> bool:
    v = s.stub_version
    return s.stub and v is not None and bool(v.capabilities & caps.SECTOR_MD5)


def sector_md5s(s: Session, addr: int, count: int) -> list[bytes]:
    """MD5 of each of ``count`` whole sectors from ``addr`` (sector-aligned), one command per 1024."""
    out: list[bytes] = []
    while count > 0:
        n = min(count, MAX_SECTORS)
        r = s.loader.command(op.SECTOR_MD5, struct.pack("<II", addr, n), timeout=T.scaled(T.MD5_PER_MB, n * SECTOR),
                             data_len=16 * n)
        out += [r.data[i * 16:(i + 1) * 16] for i in range(n)]
        addr += n * SECTOR
        count -= n
    return out


def plan_region(s: Session, addr: int, data: bytes) -> Plan:
    """Find the chunks of ``data`` (to go at ``addr``) that the flash does not already hold."""
    bounds = chunk_bounds(addr, len(data))
    if not bounds:
        return Plan((), 0, 0, "empty")
    if not can_compare(s):
        return Plan(((0, len(data)),), len(bounds), 0, "no MD5 on this loader")
    s.attach_flash()
    want = [hashlib.md5(data[a - addr:b - addr]).digest() for a, b in bounds]
    if has_sector_md5(s):
        differs, commands = _by_sector_md5(s, bounds, want)
        method = "sector-md5"
    else:
        differs, commands = _by_bisection(s, addr, data, bounds)
        method = "bisect-md5"
    runs: list[tuple[int, int]] = []
    for i, (a, b) in enumerate(bounds):
        if not differs[i]:
            continue
        if runs and runs[-1][0] + runs[-1][1] == a - addr:
            runs[-1] = (runs[-1][0], runs[-1][1] + (b - a))
        else:
            runs.append((a - addr, b - a))
    return Plan(tuple(runs), len(bounds), differs.count(False), method, commands)


def _by_sector_md5(s: Session, bounds: list[tuple[int, int]], want: list[bytes]) -> tuple[list[bool], int]:
    full = [i for i, (a, b) in enumerate(bounds) if b - a == SECTOR]
    differs = [True] * len(bounds)
    commands = 0
    if full:
        first = bounds[full[0]][0]
        got = sector_md5s(s, first, len(full))  # whole sectors are contiguous
        commands += (len(full) + MAX_SECTORS - 1) // MAX_SECTORS
        for i, digest in zip(full, got):
            differs[i] = digest != want[i]
    for i, (a, b) in enumerate(bounds):
        if b - a != SECTOR:
            differs[i] = s.loader.md5(a, b - a, s.flash.md5_hex) != want[i]
            commands += 1
    return differs, commands


def _by_bisection(s: Session, addr: int, data: bytes, bounds: list[tuple[int, int]]) -> tuple[list[bool], int]:
    """Breadth-first halving of chunk ranges whose flash MD5 differs from the data's."""
    differs = [False] * len(bounds)
    level = [(0, len(bounds))]
    commands = 0
    while level:
        changed = []
        for lo, hi in level:
            a, b = bounds[lo][0], bounds[hi - 1][1]
            commands += 1
            if s.loader.md5(a, b - a, s.flash.md5_hex) != hashlib.md5(data[a - addr:b - addr]).digest():
                changed.append((lo, hi))
        if len(level) > 1 and len(changed) > GIVE_UP_SHARE * len(level):
            for lo, hi in changed:  # most of it differs: finding the rest costs more than writing it
                differs[lo:hi] = [True] * (hi - lo)
            break
        level = []
        for lo, hi in changed:
            if hi - lo == 1:
                differs[lo] = True
            else:
                mid = (lo + hi) // 2
                level += [(lo, mid), (mid, hi)]
    return differs, commands
