"""Flash operations on a connected :class:`~esptk.session.Session`.

Everything a user does once connected: write (compressed where the loader can), verify, read,
erase. Nothing here reports success for content it has not verified: a write returns
``verified=False`` only where the loader has neither MD5 nor a way to read flash back.
"""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import packing, stream
from .errors import (
    CommandFailed,
    CommandTimeout,
    EsptkError,
    FlashError,
    LoaderChanged,
    ProtocolError,
    UnsupportedCommand,
    UsageError,
    VerifyError,
)
from .flashproto import SECTOR, FlashProtocol
from .protocol import op
from .protocol import timeouts as T
from .regbatch import BatchedRegisters
from .session import WRITE_BLOCK_ATTEMPTS, Session
from .spiflash import read_jedec_id, size_from_id, size_name

if TYPE_CHECKING:
    from .sectors import Plan

BLOCK_ATTEMPTS = WRITE_BLOCK_ATTEMPTS  #: the default of Session.block_attempts (esptool's write_block_attempts)
REGION_ATTEMPTS = 3
READ_PACKET = 0x1000
READ_IN_FLIGHT = 64
SLOW_CHUNK = 64
DEFAULT_SIZE = 4 * 1024 * 1024
STUB_HINT = "the stub can: drop --no-stub ('esptk plugins' shows whether a chip plugin ships one)"


@dataclass(frozen=True)
class Region:
    address: int
    data: bytes
    name: str = ""
    encrypt: bool = False  #: write through the chip's flash-encryption engine (stub only)


@dataclass
class RegionResult:
    address: int
    size: int  #: bytes of the file
    written: int  #: bytes written to flash (after alignment and padding)
    compressed: int | None
    md5: str  #: MD5 of the written bytes
    seconds: float
    verified: bool
    how: str  #: "md5", "read-back" or why it was not verified
    skipped: int = 0  #: bytes not written because the flash already held them
    chunks: int = 0  #: sector chunks of the region (0: not compared)
    unchanged: int = 0  #: of those, how many already held the bytes
    compared: str = "not asked"  #: how unchanged sectors were found (esptk.sectors.Plan.method)

    def summary(self) -> str:
        rate = self.written * 8 / max(self.seconds, 1e-6) / 1000
        comp = f" ({self.compressed} compressed)" if self.compressed is not None else ""
        text = (f"Wrote {self.written} bytes{comp} at 0x{self.address:08x} in {self.seconds:.1f} s "
                f"({rate:.0f} kbit/s)")
        if self.chunks and self.unchanged == self.chunks:
            text = f"Flash at 0x{self.address:08x} already holds these {self.size} bytes; nothing written"
        elif self.unchanged:
            text += f"; {self.unchanged} of {self.chunks} sectors were unchanged and skipped"
        return text + (", verified" if self.verified else f", NOT verified: {self.how}")

    def as_dict(self) -> dict[str, object]:
        return {"address": self.address, "size": self.size, "written": self.written,
                "compressed_size": self.compressed, "md5": self.md5, "seconds": round(self.seconds, 3),
                "verified": self.verified, "verification": self.how, "skipped_bytes": self.skipped,
                "sectors": self.chunks, "sectors_unchanged": self.unchanged, "compared_by": self.compared}


# --- flash size and checks -------------------------------------------------------------------------
def detect_flash_size(s: Session) -> tuple[int, int]:
    """(JEDEC id, size in bytes); falls back to 4 MB with a warning for an unknown id."""
    s.attach_flash()
    if s.stub:  # the stub takes the register writes of one SPI command in one WRITE_REG
        with BatchedRegisters(s.loader) as regs:
            jedec = read_jedec_id(regs, s.chip.spi)
    else:
        jedec = read_jedec_id(s.loader, s.chip.spi)
    size = size_from_id(jedec)
    s.detected_size = size
    if size is None:
        s.progress.warn(f"unknown flash id 0x{jedec:06x}: assuming {size_name(DEFAULT_SIZE)}")
        size = DEFAULT_SIZE
    return jedec, size


def prepare(s: Session, flash_size: int | None = None) -> int:
    """Attach the flash, settle its size (given or detected) and tell the loader."""
    s.attach_flash()
    if flash_size is None:
        flash_size = s.flash_size or detect_flash_size(s)[1]
    if flash_size > s.chip.max_flash_size:
        s.progress.warn(f"{s.chip.description} addresses at most {size_name(s.chip.max_flash_size)}")
        flash_size = s.chip.max_flash_size
    s.flash_size = flash_size
    if s.flash.set_params and s.params_size != flash_size:  # once per loader and size
        s.loader.command(op.SPI_SET_PARAMS, struct.pack("<IIIIII", 0, flash_size, 0x10000, SECTOR, 0x100, 0xFFFF))
        s.params_size = flash_size
    return flash_size


def warn_if_beyond_chip(s: Session, flash_size: int) -> None:
    """Warn when a size the user gave is larger than the flash the chip's JEDEC id names."""
    if s.detected_size is None:
        try:
            detect_flash_size(s)
        except ProtocolError:  # the id cannot be read (no SPI registers on this loader): no check
            return
    detected = s.detected_size
    if detected is not None and flash_size > detected:
        s.progress.warn(f"--flash-size {size_name(flash_size)} is larger than the detected "
                        f"{size_name(detected)} flash: writes past {size_name(detected)} will fail")


def check_regions(regions: Sequence[Region], flash_size: int) -> None:
    """Refuse unaligned, overlapping or too large regions before anything is written."""
    spans = []
    for r in regions:
        label = r.name or f"data for 0x{r.address:x}"
        if r.address % 4 and r.encrypt:  # the engine works on whole 32-byte units
            raise UsageError(f"address 0x{r.address:x} of {label} is not a multiple of 4",
                             hint="encrypted writes start at a multiple of 32 (usually a sector: 0x1000)")
        if r.address + len(r.data) > flash_size:
            raise UsageError(
                f"{label} ({len(r.data)} bytes at 0x{r.address:x}) ends past the end of the "
                f"{size_name(flash_size)} flash", hint="check the address, or the --flash-size")
        spans.append((r.address // SECTOR, (r.address + max(len(r.data), 1) - 1) // SECTOR, label))
    spans.sort()
    for (_a0, a1, an), (b0, _b1, bn) in zip(spans, spans[1:]):
        if b0 <= a1:
            raise UsageError(f"{an} and {bn} share flash sectors",
                             hint="regions are erased in 4 KiB sectors: they must not overlap or share one")


def patch_regions(s: Session, regions: Sequence[Region], mode: str = "keep", freq: str = "keep",
                  size: str = "keep") -> list[Region]:
    """The regions with the bootloader's header set to the flash mode/frequency/size asked for
    (``keep`` leaves a field, ``detect`` asks the chip); warnings go to the progress sink."""
    if (mode, freq, size) == ("keep", "keep", "keep"):
        return list(regions)
    from .image.patch import patch_flash_params

    if size == "detect":
        size = size_name(prepare(s))
    out = []
    for r in regions:
        if r.address != s.chip.bootloader_offset:
            out.append(r)
            continue
        data, warnings = patch_flash_params(s.registry, s.chip, r.data, r.address, mode, freq, size)
        for w in warnings:
            s.progress.warn(w)
        out.append(replace(r, data=data))
    return out


# --- writing ---------------------------------------------------------------------------------------
def write_flash(s: Session, regions: Sequence[Region], compress: bool | None = None,
                erase_all: bool = False, flash_size: int | None = None, skip: bool = True,
                force: bool = False) -> list[RegionResult]:
    """Write and verify each region; with ``skip``, sectors that already hold the bytes are not
    written again (found by the chip's MD5; see :mod:`esptk.sectors`). A region that does not
    start a sector is refused where that sector holds other data, unless ``force``."""
    size = prepare(s, flash_size)
    check_regions(regions, size)
    if erase_all:
        erase_flash(s)
    else:
        for r in regions:
            check_unaligned(s, r, force)
    if compress is not False and s.flash.compression:  # the next region compresses while one is sent
        packing.prefetch([r.data for r in regions if not r.encrypt])
    return [write_region(s, r, compress, skip=skip and not erase_all) for r in regions]


def check_unaligned(s: Session, r: Region, force: bool) -> None:
    """A region that does not start a sector erases that sector's bytes before it (and after it,
    if it ends in that sector): say so, and refuse unless ``force`` when they hold data."""
    head = r.address % SECTOR
    if not head:
        return
    start = r.address - head
    label = r.name or f"data for 0x{r.address:x}"
    _s, length = s.flash.erased_span(r.address, len(r.data))
    s.progress.warn(f"0x{r.address:x} is not at the start of a 4 KiB sector: 0x{start:08x}-"
                    f"0x{start + length - 1:08x} is erased, including bytes outside {label}")
    if force:
        return
    if not s.flash.read:
        raise UsageError(f"cannot check what the sector at 0x{start:x} holds outside {label} "
                         f"(the {s.chip.description} ROM loader cannot read flash)",
                         hint="write from the sector start, use the stub, or add --force to lose those bytes")
    current = read_flash(s, start, SECTOR)
    tail = head + len(r.data)
    outside = current[:head] + (current[tail:] if tail < SECTOR else b"")
    if outside.count(0xFF) != len(outside):
        raise UsageError(f"the sector at 0x{start:x} holds data outside {label} that writing it would erase",
                         hint=f"write the whole sector from 0x{start:x}, or add --force to lose that data")


class RegionRestart(FlashError):
    """A block's fate is unknown on a loader that cannot check the result: write the region again."""




def write_region(s: Session, region: Region, compress: bool | None = None, skip: bool = False) -> RegionResult:
    from .sectors import Plan, can_compare, plan_region

    # Loaders write whole words. An address that is not a multiple of 4 is not at a sector start
    # either, so the bytes before it in its word are erased (0xFF) by the write: send them as 0xFF.
    head = region.address % 4
    data = b"\xff" * head + region.data + b"\xff" * (-(head + len(region.data)) % 4)
    addr = region.address - head
    digest = hashlib.md5(data).hexdigest()
    t0 = time.monotonic()
    # the flash holds ciphertext after an encrypted write: comparing it with the file says nothing
    # (and past the chip's real end there is nothing to compare: the write will be refused)
    compare = skip and not region.encrypt and not beyond_chip(s, addr, len(data))
    if compare and can_compare(s):
        s.progress.stage("compare")
    plan = plan_region(s, addr, data) if compare else Plan(((0, len(data)),), 0, 0, "not asked")
    sent: int | None = 0
    announced: set[tuple[int, int]] = set()
    for attempt in range(REGION_ATTEMPTS):
        try:
            if attempt:  # a retry resumes where the loader can compare: sectors that took are kept
                whole = Plan(((0, len(data)),), plan.chunks, 0, "retry")
                if compare and can_compare(s):
                    s.progress.stage("compare")
                plan = plan_region(s, addr, data) if compare and can_compare(s) else whole
            sent = 0
            for off, n in plan.runs:  # encoded per attempt: the loader may have changed after a reset
                packed = _write_run(s, addr + off, data[off:off + n], compress, region.encrypt, announced)
                sent = None if packed is None or sent is None else sent + packed
            if region.encrypt:  # the flash holds ciphertext: nothing to compare without the key
                verified, how = False, "encrypted by the chip (the flash holds ciphertext)"
            else:
                if _can_verify(s):
                    s.progress.stage("verify")
                verified, how = _verify_written(s, addr, data, digest, plan)
            break
        except (CommandTimeout, CommandFailed, VerifyError, RegionRestart) as e:
            if isinstance(e, UnsupportedCommand):
                raise
            s.progress.finish()
            if beyond_chip(s, addr, len(data)) and isinstance(e, CommandFailed):
                raise FlashError(f"writing at 0x{addr:08x} was refused: {e}",
                                 hint=f"the region ends past the detected {size_name(s.detected_size or 0)} "
                                      "flash; check the address and --flash-size") from e
            if attempt == REGION_ATTEMPTS - 1:
                raise FlashError(f"writing at 0x{addr:08x} failed {REGION_ATTEMPTS} times: {e}",
                                 hint=_failure_hint(e)) from e
            again_how = "writing what is not yet right" if compare and can_compare(s) else "writing the region again"
            s.progress.warn(f"writing at 0x{addr:08x} failed ({e}); {again_how} ({attempt + 2}/{REGION_ATTEMPTS})")
            try:
                s.recheck_loader()  # the loader that answers now decides the encoding of the retry
                prepare(s, s.flash_size)
            except (CommandTimeout, CommandFailed) as again:
                raise FlashError(f"writing at 0x{addr:08x} failed ({e}) and the chip no longer "
                                 f"answers properly: {again}", hint=_failure_hint(again)) from again
    written = plan.bytes_to_write
    res = RegionResult(region.address, len(region.data), written, sent if written else None, digest,
                       time.monotonic() - t0, verified, how, skipped=len(data) - written,
                       chunks=plan.chunks, unchanged=plan.unchanged, compared=plan.method)
    s.progress.finish(res.summary())
    return res


def _write_run(s: Session, addr: int, data: bytes, compress: bool | None, encrypt: bool = False,
               announced: set[tuple[int, int]] | None = None) -> int | None:
    """Send one contiguous run (not verified here); the compressed size, or None if sent plain.
    An erase range larger than the run's sectors is announced once (``announced``)."""
    if not s.stub and addr % SECTOR:  # the ROM erases from the start of a sector: pad in front
        pre = addr % SECTOR
        data, addr = b"\xff" * pre + data, addr - pre
    span = s.flash.erased_span(addr, len(data))
    if announced is None or span not in announced:
        note_erase(s, addr, len(data))
        if announced is not None:
            announced.add(span)
    packed: bytes | None = None
    if compress is not False and s.flash.compression:
        packed = packing.packed(data)  # compressed ahead where the bytes are those of a whole region
    if packed is not None:
        _send_compressed(s, addr, data, packed, encrypt)
        return len(packed)
    _send_plain(s, addr, data, encrypt)
    return None


def beyond_chip(s: Session, addr: int, size: int) -> bool:
    """The range ends past the flash size the chip's id names (a --flash-size larger than it)."""
    return s.detected_size is not None and addr + size > s.detected_size


def _failure_hint(e: Exception) -> str:
    if isinstance(e, LoaderChanged):
        return "the chip keeps resetting: check its power supply and the reset wiring"
    return "check the link (cable, --baud) and retry"


def _block(s: Session, opcode: int, block: bytes, seq: int, timeout: float) -> None:
    """One data block, sent at most ``s.block_attempts`` times in all. The loader itself resends a
    block whose reply did not come (after settling the link); a block the loader refused as damaged
    in transit goes out again here."""
    sent = 0
    while True:
        try:
            s.loader.data_command(opcode, block, seq, timeout, attempts=s.block_attempts - sent)
            return
        except LoaderChanged:
            raise
        except CommandFailed as e:
            sent += max(1, s.loader.sends)
            if s.loader.resent:
                # the first copy's reply was lost and a second copy was refused: the first copy
                # most likely arrived, but only a loader that can check the flash may go on
                if not _can_verify(s):
                    raise RegionRestart(f"block {seq}: its reply was lost and the loader refused it "
                                        "again; whether it was written cannot be checked") from e
                s.progress.warn(f"block {seq}: the first copy arrived; going on (the MD5 at the end checks it)")
                return
            if sent >= s.block_attempts:
                times = "once" if sent == 1 else f"{sent} times"
                raise FlashError(f"block {seq} was refused {times}: {e}",
                                 hint="the link damages data: check the cable, lower --baud (esptool.cfg's "
                                      "write_block_attempts sets how often a block is tried)") from e
            # the loader refused this copy (damaged in transit: a ROM answers "malformed" 0x05 or
            # "checksum" 0x07, a stub 0xC0/0xC1) and did not take it: send it again
            s.progress.warn(f"block {seq}: {e}; sending it again")


def _can_verify(s: Session) -> bool:
    return bool(s.flash.md5 or s.flash.read)


def note_erase(s: Session, addr: int, size: int) -> None:
    """Say so when the loader erases more than the sectors the region covers."""
    start, length = s.flash.erased_span(addr, size)
    cover = FlashProtocol.erased_span(s.flash, addr, size)
    if (start, length) != cover:
        extra_from = cover[0] + cover[1]
        s.progress.warn(f"the {s.chip.description} ROM loader also erases 0x{extra_from:08x}-"
                        f"0x{start + length - 1:08x} (that ROM cannot erase this sector count "
                        "exactly: 'What gets erased' in docs/usage.md); the stub erases exactly")


def _begin(words: tuple[int, int, int, int], encrypt: bool) -> bytes:
    """FLASH_BEGIN / FLASH_DEFL_BEGIN payload; the 20-byte form asks the stub to encrypt."""
    return struct.pack("<IIII", *words) + (struct.pack("<I", 1) if encrypt else b"")


def _send_plain(s: Session, addr: int, data: bytes, encrypt: bool = False) -> None:
    fp, ld = s.flash, s.loader
    bs = fp.write_block_size
    blocks = (len(data) + bs - 1) // bs
    erase = fp.erase_size(addr, len(data))
    timeout = T.DEFAULT if s.stub else T.scaled(T.ERASE_REGION_PER_MB, len(data))
    s.progress.stage("write" if s.stub else "erase")  # a ROM erases the whole range when the write begins
    s.progress.start(f"Writing at 0x{addr:08x}", len(data))
    ld.command(op.FLASH_BEGIN, _begin((erase, blocks, bs, addr), encrypt), timeout=timeout)
    s.progress.stage("write")
    w = stream.window_of(s)
    if w.streaming:  # our streaming stub: blocks in flight, errors on later replies
        window = w.blocks
        padded = data + b"\xff" * (-len(data) % bs)
        chunks = [padded[i : i + bs] for i in range(0, len(padded), bs)]
        ends = [min((i + 1) * bs, len(data)) for i in range(blocks)]
        stream.send_blocks(s, op.FLASH_DATA, chunks, ends, addr, window)
        stream.finish(s, op.FLASH_END, ends, addr, window, T.DEFAULT)
        return
    for seq in range(blocks):
        block = data[seq * bs : (seq + 1) * bs]
        block += b"\xff" * (bs - len(block))
        _block(s, op.FLASH_DATA, block, seq, T.DEFAULT)
        s.progress.advance(min((seq + 1) * bs, len(data)))
    if s.stub:  # barrier: the stub acknowledges blocks before writing them
        ld.command(op.FLASH_END, struct.pack("<I", 1))


def _send_compressed(s: Session, addr: int, data: bytes, packed: bytes, encrypt: bool = False) -> None:
    fp, ld = s.flash, s.loader
    bs = fp.write_block_size
    blocks = (len(packed) + bs - 1) // bs
    timeout = T.DEFAULT if s.stub else T.scaled(T.ERASE_REGION_PER_MB, len(data))
    s.progress.stage("write" if s.stub else "erase")  # a ROM erases the whole range when the write begins
    s.progress.start(f"Writing at 0x{addr:08x}", len(data))
    ld.command(op.FLASH_DEFL_BEGIN, _begin((fp.defl_begin_size(len(data)), blocks, bs, addr), encrypt),
               timeout=timeout)
    s.progress.stage("write")
    w = stream.window_of(s)
    if w.streaming:  # our streaming stub: blocks in flight, errors on later replies
        _stream_compressed(s, addr, packed, w.blocks)
        return
    inflater = zlib.decompressobj()
    done = 0
    next_timeout = T.DEFAULT
    for seq in range(blocks):
        block = packed[seq * bs : (seq + 1) * bs]
        grows = len(inflater.decompress(block))
        timeout = next_timeout if s.stub else T.scaled(T.ERASE_WRITE_PER_MB, grows)
        _block(s, op.FLASH_DEFL_DATA, block, seq, timeout)
        next_timeout = T.stub_defl_block(grows)
        done += grows
        s.progress.advance(done, compressed=min((seq + 1) * bs, len(packed)))
    if s.stub:
        ld.command(op.FLASH_DEFL_END, struct.pack("<I", 1), timeout=next_timeout)


def _stream_compressed(s: Session, addr: int, packed: bytes, window: int) -> None:
    bs = s.flash.write_block_size
    chunks = [packed[i : i + bs] for i in range(0, len(packed), bs)]
    inflater = zlib.decompressobj()
    ends, done = [], 0
    for chunk in chunks:
        done += len(inflater.decompress(chunk))
        ends.append(done)
    stream.send_blocks(s, op.FLASH_DEFL_DATA, chunks, ends, addr, window)
    last = ends[-1] - (ends[-2 - window] if len(ends) > window + 1 else 0)
    stream.finish(s, op.FLASH_DEFL_END, ends, addr, window, T.stub_defl_block(last))


def _verify_written(s: Session, addr: int, data: bytes, digest: str, plan: Plan | None = None) -> tuple[bool, str]:
    if s.flash.md5 and plan is not None and _runs_suffice(s, addr, len(data), plan):
        # the chunks left alone matched the file by the chip's own hashes just before; writing a
        # run erases only its own sectors, so the runs written are what is left to check
        for off, n in plan.runs:
            got = s.loader.md5(addr + off, n, s.flash.md5_hex).hex()
            if got != hashlib.md5(data[off:off + n]).hexdigest():
                raise VerifyError(f"MD5 of flash at 0x{addr + off:08x} (0x{n:x} bytes written) is {got}, "
                                  "not that of the data")
        if not plan.runs:
            return True, f"md5 (all {plan.unchanged} chunk(s) matched; nothing written)"
        return True, f"md5 of the {len(plan.runs)} run(s) written; the other {plan.unchanged} chunk(s) matched before"
    if s.flash.md5:
        got = s.loader.md5(addr, len(data), s.flash.md5_hex).hex()
        if got != digest:
            empty = got == hashlib.md5(b"\xff" * len(data)).hexdigest()
            raise VerifyError(f"MD5 of flash at 0x{addr:08x} is {got}, expected {digest}"
                              + (" (the region is empty)" if empty else ""))
        return True, "md5"
    if s.flash.read:
        if read_flash(s, addr, len(data)) != data:
            raise VerifyError(f"flash at 0x{addr:08x} reads back different from what was written")
        return True, "read-back"
    return False, f"the {s.chip.description} ROM loader has neither MD5 nor flash reads (use the stub)"


def _runs_suffice(s: Session, addr: int, size: int, plan: Plan) -> bool:
    """Checking only the runs written verifies the whole region: the rest was compared by MD5 before
    writing, no run's erase reaches into it, and the runs are few and small (else one MD5 is cheaper)."""
    if plan.method not in ("sector-md5", "bisect-md5") or not plan.unchanged:
        return False
    if len(plan.runs) > 8 or plan.bytes_to_write * 2 > size:
        return False
    return all(s.flash.erased_span(addr + off, n) == FlashProtocol.erased_span(s.flash, addr + off, n)
               for off, n in plan.runs)


# --- verifying and reading -------------------------------------------------------------------------
def flash_md5(s: Session, addr: int, size: int) -> bytes:
    if not s.flash.md5:
        raise UnsupportedCommand(f"the {s.chip.description} ROM loader cannot compute MD5",
                                 hint=STUB_HINT)
    s.attach_flash()
    return s.loader.md5(addr, size, s.flash.md5_hex)


def verify_flash(s: Session, regions: Sequence[Region], diff: bool = False) -> list[dict[str, object]]:
    """Compare each region with the flash; returns per-region results (``ok``, differing offsets)."""
    prepare(s)
    out: list[dict[str, object]] = []
    for r in regions:
        data = r.data
        if s.flash.md5:
            s.progress.stage("verify")
            s.progress.start(f"Verifying at 0x{r.address:08x}", len(data))
            same = flash_md5(s, r.address, len(data)).hex() == hashlib.md5(data).hexdigest()
            s.progress.advance(len(data))
            s.progress.finish()
            flash_data = read_flash(s, r.address, len(data)) if (diff and not same) else None
        else:
            flash_data = read_flash(s, r.address, len(data))
            same = flash_data == data
        offsets: list[int] = []
        if flash_data is not None and not same:
            offsets = [r.address + i for i, (a, b) in enumerate(zip(flash_data, data)) if a != b]
        out.append({"address": r.address, "size": len(data), "name": r.name, "ok": same,
                    "differences": len(offsets), "offsets": offsets[:256]})
    return out


def read_flash(s: Session, addr: int, size: int) -> bytes:
    """Read ``size`` bytes at ``addr``; the result is checked against the chip's MD5."""
    s.attach_flash()
    if s.flash.read == "stub":
        return _read_stub(s, addr, size)
    if s.flash.read == "slow":
        return _read_slow(s, addr, size)
    raise UnsupportedCommand(f"the {s.chip.description} ROM loader cannot read flash",
                             hint=STUB_HINT)


def _read_stub(s: Session, addr: int, size: int) -> bytes:
    try:
        return _read_stub_once(s, addr, size)
    except EsptkError:
        s.loader.dirty = True  # the stub may still be sending: settle before the next command
        raise


def _read_stub_once(s: Session, addr: int, size: int) -> bytes:
    ld = s.loader
    packets = stream.window_of(s).read_packets  # our stub: a count of packets; esptool's: 64 (see READ_IN_FLIGHT)
    ld.command(op.READ_FLASH, struct.pack("<IIII", addr, size, READ_PACKET, packets if packets > 1 else READ_IN_FLIGHT))
    buf = bytearray()
    s.progress.stage("read")
    s.progress.start(f"Reading at 0x{addr:08x}", size)
    while len(buf) < size:
        frame = ld.read_frame(T.READ_PACKET)
        if len(frame) < READ_PACKET and len(buf) + len(frame) < size:
            raise ProtocolError(f"short read packet ({len(frame)} bytes) at offset {len(buf)}")
        buf += frame
        if len(buf) > size:
            raise ProtocolError("the chip sent more data than asked for")
        ld.send_frame(struct.pack("<I", len(buf)))
        s.progress.advance(len(buf))
    s.progress.stage("verify")  # the chip's MD5 of what it sent follows the data
    digest = ld.read_frame(T.READ_PACKET)
    if len(digest) != 16:
        raise ProtocolError(f"expected the 16-byte MD5 after the data, got {len(digest)} bytes")
    if digest != hashlib.md5(buf).digest():
        raise VerifyError(f"data read at 0x{addr:08x} does not match the chip's MD5",
                          hint="the link corrupted data: lower --baud and retry")
    s.progress.finish()
    return bytes(buf)


def _read_slow(s: Session, addr: int, size: int) -> bytes:
    ld = s.loader
    buf = bytearray()
    s.progress.stage("read")
    s.progress.start(f"Reading at 0x{addr:08x}", size)
    while len(buf) < size:
        n = min(SLOW_CHUNK, size - len(buf))
        r = ld.command(op.READ_FLASH_SLOW, struct.pack("<II", addr + len(buf), n), data_len=SLOW_CHUNK)
        buf += r.data[:n]
        s.progress.advance(len(buf))
    if s.flash.md5:
        s.progress.stage("verify")
    if s.flash.md5 and ld.md5(addr, size, s.flash.md5_hex) != hashlib.md5(buf).digest():
        raise VerifyError(f"data read at 0x{addr:08x} does not match the chip's MD5",
                          hint="the link corrupted data: lower --baud and retry")
    s.progress.finish()
    return bytes(buf)


# --- erasing ---------------------------------------------------------------------------------------
def erase_flash(s: Session) -> None:
    if not s.flash.erase:
        raise UnsupportedCommand(f"the {s.chip.description} ROM loader cannot erase the whole flash",
                                 hint=STUB_HINT)
    s.attach_flash()
    s.progress.note("Erasing flash (this may take a while)...")
    s.progress.stage("erase")
    s.loader.command(op.ERASE_FLASH, timeout=T.CHIP_ERASE)
    s.progress.finish()


def erase_region(s: Session, addr: int, size: int) -> bool:
    """Erase ``size`` bytes at ``addr`` (both sector-aligned); True if verified empty by MD5."""
    if addr % SECTOR or size % SECTOR:
        raise UsageError(f"erase region 0x{addr:x}+0x{size:x} is not 4 KiB aligned",
                         hint="address and size must be multiples of 0x1000")
    flash_size = prepare(s)
    if addr + size > flash_size:
        raise UsageError(f"region 0x{addr:x}+0x{size:x} ends past the {size_name(flash_size)} flash")
    timeout = T.scaled(T.ERASE_REGION_PER_MB, size)
    note_erase(s, addr, size)
    s.progress.stage("erase")
    if s.flash.erase:
        s.loader.command(op.ERASE_REGION, struct.pack("<II", addr, size), timeout=timeout)
    else:  # the ROM erases up front on FLASH_BEGIN
        bs = s.flash.write_block_size
        s.loader.command(op.FLASH_BEGIN, struct.pack("<IIII", s.flash.erase_size(addr, size),
                                                     (size + bs - 1) // bs, bs, addr), timeout=timeout)
    if s.flash.md5:
        s.progress.stage("verify")
        empty = flash_md5(s, addr, size) == hashlib.md5(b"\xff" * size).digest()
        s.progress.finish()
        if not empty:
            raise VerifyError(f"region 0x{addr:x}+0x{size:x} is not empty after erasing")
        return True
    s.progress.finish()
    return False
