"""Connecting to a chip: reset into the loader, sync, detect, upload the stub, change baud.

:func:`connect` returns a :class:`Session`, the object every device operation works on.
"""

from __future__ import annotations

import itertools
import os
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .chip import ChipInfo, ChipSpec, format_mac
from .errors import (
    ChipMismatch,
    CommandFailed,
    CommandTimeout,
    ProtocolError,
    SyncFailed,
    TransportError,
    UnsupportedChip,
    UsageError,
)
from .flashproto import RAM_BLOCK, FlashProtocol
from .loader import Loader, Tracer
from .progress import NullProgress, ProgressSink, StagedSink, staged
from .protocol import op
from .protocol import timeouts as T
from .protocol.packets import STAGE1_HI, parse_reply, request
from .reset import ResetSequence
from .transport import Transport

if TYPE_CHECKING:
    from .plugins import Registry
    from .stub import StubImage

ROM_BAUD = 115200
SYNC_TRIES = 5
#: tries per flash data block (esptool's ``write_block_attempts``)
WRITE_BLOCK_ATTEMPTS = 3
#: seconds between two tries to open a port (esptool's ``open_port_attempts``: 0.1 s apart)
OPEN_RETRY_DELAY = 0.1


@dataclass
class Session:
    registry: Registry
    transport: Transport
    loader: Loader
    chip: ChipSpec
    flash: FlashProtocol
    progress: StagedSink = field(default_factory=NullProgress)
    flash_attached: bool = False
    #: the flash size the loader was last told (SPI_SET_PARAMS), None: not yet
    params_size: int | None = None
    flash_size: int | None = None
    #: the size the flash's JEDEC id names (None: not read yet, or an unknown id)
    detected_size: int | None = None
    #: what our own stub said about itself (GET_VERSION), None for other loaders
    stub_version: StubVersion | None = None
    #: the user wants the stub (no --no-stub): after a reset it is uploaded again
    stub_wanted: bool = False
    #: tries per flash data block the loader refuses or does not answer (at least 1)
    block_attempts: int = WRITE_BLOCK_ATTEMPTS
    _facts: _RegisterCache | None = field(default=None, repr=False)

    @property
    def stub(self) -> bool:
        return self.loader.stub

    def use_loader(self, stub: bool) -> None:
        self.loader.stub = stub
        self.loader.status_bytes = 2 if stub else self.chip.rom_status_bytes
        fp = self.registry.chip_hook(self.chip).esptk_flash_protocol(chip=self.chip, stub=stub)
        self.flash = fp
        self.flash_attached = False
        self.params_size = None

    def info(self) -> ChipInfo:
        """The chip's facts; each register is read once (eFuse words do not change)."""
        c, ld = self.chip, self.facts()
        xtal, _est = c.crystal_mhz(ld, self.transport.baud)
        return ChipInfo(
            chip=c.name, description=c.describe(ld), features=c.features(ld), crystal_mhz=xtal,
            mac=format_mac(c.read_mac(ld)), chip_id=c.read_chip_id(ld), revision=c.revision(ld), stub=self.stub,
        )

    def close(self, after: str = "hard_reset") -> None:
        try:
            self._after(after)
        finally:
            self.transport.close()

    def _after(self, after: str) -> None:
        ld = self.loader
        if after == "no_reset_stub":
            return
        if after in ("hard_reset", "watchdog_reset"):
            seqs = _sequences(self.registry, "hard_reset", self.transport, self.chip)
            if seqs:
                seqs[0].run(self.transport.set_lines)
            return
        if after == "soft_reset":
            self.soft_reset()
            return
        if after == "no_reset" and self.stub:
            # tell the stub to reboot into the ROM loader
            ld.command(op.FLASH_BEGIN, bytes(16))
            ld.command(op.FLASH_END, b"\0\0\0\0")

    def facts(self) -> _RegisterCache:
        """The registers that identify the chip (eFuse words, dates), read once per session whichever
        loader answers; the UART divider, which follows the baud rate, is read anew each time."""
        if self._facts is None:
            self._facts = _RegisterCache(self.loader, volatile=frozenset({self.chip.uart_clkdiv_reg}))
        return self._facts

    # --- flash helpers shared by the operations ----------------------------------------------------
    def attach_flash(self) -> None:
        if not self.flash_attached:
            self.flash.attach(self.loader)
            self.flash_attached = True

    def soft_reset(self) -> None:
        """Leave the loader and run the application in flash (the ESP32 ROM needs the flash
        attached before its FLASH_BEGIN, as for any flash command)."""
        self.attach_flash()
        self.flash.soft_reset(self.loader)

    def recheck_loader(self) -> None:
        """After a failed step: settle the link and find out which loader answers now. The chip
        may have reset into its ROM: then the stub goes up again (or, without one, the ROM's
        encoding is used from now on), so that a retry speaks to the loader that really runs."""
        first = self.loader.barrier()
        rom_answers = first.value != 0
        if rom_answers != self.stub:
            return  # the same loader as before
        if not rom_answers:
            self.use_loader(True)
            return
        self.progress.warn("the chip has reset into its ROM loader")
        self.use_loader(False)
        self.stub_version = None
        if self.stub_wanted:
            image = self.registry.chip_hook(self.chip).esptk_select_stub(
                chip=self.chip, revision=self.chip.revision(self.loader))
            if image is not None:
                run_stub(self, image)


class _RegisterCache:
    def __init__(self, loader: Loader, volatile: frozenset[int] = frozenset()) -> None:
        self.loader = loader
        self.volatile = volatile
        self.values: dict[int, int] = {}

    def read_reg(self, addr: int) -> int:
        if addr in self.volatile:
            return self.loader.read_reg(addr)
        if addr not in self.values:
            self.values[addr] = self.loader.read_reg(addr)
        return self.values[addr]

    def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF, delay_us: int = 0) -> None:
        self.values.pop(addr, None)
        self.loader.write_reg(addr, value, mask, delay_us)


@dataclass(frozen=True)
class StubVersion:
    """GET_VERSION of our stub (contract A): protocol 1 sends the first four words, protocol 2 all six."""

    protocol: int
    chip: int
    capabilities: int
    max_block: int
    max_in_flight: int = 1  #: data blocks the host may keep unanswered (1 = stop-and-wait)
    read_window: int = 1  #: READ_FLASH packets the stub keeps in flight at most


def negotiate_stub(s: Session) -> StubVersion | None:
    """Ask the running stub for its protocol version; loaders without the extension refuse it."""
    # read the reply frame here: its length (16 or 24 data bytes) tells where the status sits, which
    # the generic status split cannot know (protocol 1's first data byte, 0x01, would read as a ROM failure)
    s.loader.send_frame(request(op.GET_VERSION))
    deadline = time.monotonic() + 1.0
    r = None
    while r is None or r.opcode != op.GET_VERSION:
        try:
            r = parse_reply(s.loader.read_frame(max(deadline - time.monotonic(), 0.001)))
        except (CommandTimeout, ProtocolError):
            s.loader.flush_input()
            return None
    # 16 (protocol 1) or 24 (protocol 2) data bytes, then the stub's 2 status bytes; a refusal is 2 bytes
    data, status = r.body[:-2], r.body[-2:]
    if len(data) not in (16, 24) or status[:1] != b"\0":
        return None
    return StubVersion(*struct.unpack(f"<{len(data) // 4}I", data))


def _sequences(reg: Registry, mode: str, t: Transport, chip: ChipSpec | None) -> list[ResetSequence]:
    found: list[ResetSequence] = []
    for seqs in reg.hook.esptk_reset_sequences(mode=mode, capabilities=t.capabilities, chip=chip):
        found.extend(seqs or ())
    return found


def open_transport(reg: Registry, port: str, baud: int, attempts: int = 1,
                   progress: ProgressSink | None = None) -> Transport:
    """Open ``port``; a port that cannot be opened (missing, busy, refused) is tried ``attempts``
    times, :data:`OPEN_RETRY_DELAY` apart (0 or less: until it opens, e.g. a board plugged in later)."""
    cls = reg.transport_for(port)
    for i in itertools.count():
        t = cls.from_url(port, baud)
        try:
            t.open()
            return t
        except TransportError as e:
            if 0 < attempts <= i + 1:
                raise
            if i == 0 and progress is not None:
                more = "until it opens" if attempts <= 0 else f"up to {attempts} times"
                progress.note(f"{e.message}; trying {more}")
        time.sleep(OPEN_RETRY_DELAY)
    raise AssertionError("unreachable")


def _try_sync(loader: Loader) -> list[int] | None:
    for _ in range(SYNC_TRIES):
        loader.flush_input()
        try:
            return loader.sync()
        except (CommandTimeout, ProtocolError) as e:
            if "crashed" in str(e):
                raise
            time.sleep(0.05)
    return None


def sync_loader(reg: Registry, transport: Transport, loader: Loader, before: str, attempts: int,
                chip: ChipSpec | None, progress: ProgressSink, reset_delay: float | None = None) -> list[int]:
    """Reset (per ``before``) and sync; return the SYNC reply values. ``reset_delay``: seconds between
    releasing EN and releasing GPIO0 in the sequences that have that wait (the slow ones add theirs)."""
    seqs = _sequences(reg, before, transport, chip) if before not in ("no_reset",) else []
    if reset_delay is not None:
        seqs = [seq.with_reset_delay(reset_delay) for seq in seqs]
    counter = itertools.count() if attempts <= 0 else range(attempts)
    boot_seen: str | None = None
    waiting = False
    for i in counter:
        loader.noise.clear()
        if seqs:
            seqs[i % len(seqs)].run(transport.set_lines)
        # keep what the chip printed while booting, to tell a wrong boot mode from silence
        try:
            loader.read_frame(0.05)
        except CommandTimeout:
            pass
        boot, wait = loader.boot_mode()
        boot_seen, waiting = boot or boot_seen, wait or waiting
        values = _try_sync(loader)
        if values is not None:
            return values
        progress.note(f"Connecting... attempt {i + 1} failed")
    if waiting:
        raise SyncFailed("the chip is in download mode but does not answer SYNC",
                         hint="the chip's TX reaches us but our TX does not reach it: check the RX wire")
    if boot_seen:
        raise SyncFailed(f"wrong boot mode ({boot_seen}): the chip is not in download mode",
                         hint="hold BOOT/GPIO0 low while resetting, or check the auto-reset circuit")
    raise SyncFailed(f"no answer from a ROM loader on {transport.url}")


def detect_chip(reg: Registry, loader: Loader, wanted: str) -> ChipSpec:
    if not reg.chips:
        raise UnsupportedChip("no chip plugin is installed",
                              hint="install a chip plugin (a distribution named esptk-<chip>)")
    want = reg.chip(wanted) if wanted != "auto" else None
    magic_reg = want.magic_reg if want else next(iter(reg.chips.values())).magic_reg
    magic = loader.read_reg(magic_reg)
    found = next((c for c in reg.chips.values() if c.matches_magic(magic)), None)
    if found is None:
        other = reg.name_magic(magic)
        if other:
            raise UnsupportedChip(f"this is an {other}; no plugin for it is installed",
                                  hint=f"installed chip plugins: {', '.join(sorted(reg.chips))}")
        raise UnsupportedChip(f"unknown chip (magic value 0x{magic:08x})",
                              hint="is this an Espressif chip in download mode?")
    if want is not None and want.name != found.name:
        raise ChipMismatch(f"this chip is an {found.description}, not an {want.description}")
    return found


def connect(
    reg: Registry, port: str | None = None, chip: str = "auto", baud: int = ROM_BAUD,
    before: str = "default_reset", connect_attempts: int = 7, use_stub: bool = True,
    trace: Tracer | None = None, progress: ProgressSink | None = None, transport: Transport | None = None,
    reset_delay: float | None = None, open_attempts: int = 1, block_attempts: int = WRITE_BLOCK_ATTEMPTS,
) -> Session:
    """Open ``port`` (or use ``transport``), enter the loader and return a ready :class:`Session`.

    esptool's configuration values: ``reset_delay`` (seconds before the boot pin is released in the
    reset sequences, default 0.05), ``open_attempts`` (tries to open the port, 0.1 s apart; 0: until it
    opens), ``block_attempts`` (tries per flash data block)."""
    sink = staged(progress or NullProgress())
    if transport is None:
        if not port:
            raise UsageError("no port given", hint="use --port PORT (or set ESPTK_PORT); try --port sim://esp32")
        start_baud = baud if before == "no_reset_no_sync" else min(ROM_BAUD, baud)
        transport = open_transport(reg, port, start_baud, open_attempts, sink)
    try:
        s = _connect(reg, transport, chip, baud, before, connect_attempts, use_stub, trace, sink, reset_delay)
    except BaseException:
        transport.close()
        raise
    s.block_attempts = max(1, block_attempts)
    return s


def _connect(reg: Registry, transport: Transport, chip: str, baud: int, before: str, attempts: int,
             use_stub: bool, trace: Tracer | None, progress: StagedSink, reset_delay: float | None) -> Session:
    loader = Loader(transport, trace)
    if before == "no_reset_no_sync":
        # a loader is assumed to be running already (esptool assumes its stub): without --chip, ask it
        spec = reg.chip(chip) if chip != "auto" else detect_chip(reg, loader, "auto")
        stub = _stub_answers(loader, spec)
        s = Session(reg, transport, loader, spec, FlashProtocol.default_for(spec, stub), progress)
        s.use_loader(stub)
        return s
    wanted = reg.chip(chip) if chip != "auto" else None
    progress.note(f"Connecting to {transport.url}...")
    values = sync_loader(reg, transport, loader, before, attempts, wanted, progress, reset_delay)
    stub_running = all(v == 0 for v in values)
    loader.status_bytes = 2
    spec = detect_chip(reg, loader, chip)
    s = Session(reg, transport, loader, spec, FlashProtocol.default_for(spec, stub_running), progress)
    s.use_loader(stub_running)
    s.stub_wanted = use_stub or stub_running
    if stub_running:
        s.stub_version = negotiate_stub(s)
    if use_stub and not stub_running:
        image = reg.chip_hook(spec).esptk_select_stub(chip=spec, revision=spec.revision(s.facts()))
        if image is None:
            progress.warn(f"no stub for {spec.description} is installed; using the ROM loader")
        elif baud != transport.baud and s.flash.change_baud:
            change_baud(s, baud)  # a ROM that can change its baud rate gets the stub at full speed
            run_stub(s, image)
        elif baud > transport.baud and image.stage1 is not None and os.environ.get("ESPTK_STAGE1") != "0":
            # a ROM that cannot: a small loader that can goes up first, then the stub at full speed
            if not run_stub_via_loader(s, image, baud, before, attempts):
                run_stub(s, image)
        else:
            run_stub(s, image)
    if baud != transport.baud:
        change_baud(s, baud)
    return s


def _stub_answers(loader: Loader, spec: ChipSpec) -> bool:
    """Without sync: is a stub answering, or the ROM? Told apart where their status lengths differ
    (else a stub is assumed, as esptool does)."""
    if spec.rom_status_bytes == 2:
        return True
    reply = loader.command(op.READ_REG, struct.pack("<I", spec.magic_reg), check=False)
    if len(reply.body) == spec.rom_status_bytes:
        loader.status_bytes = spec.rom_status_bytes
        return False
    return True


def load_ram_segments(s: Session, segments: list[tuple[int, bytes]], entry: int) -> None:
    """MEM_BEGIN/DATA for each segment, then MEM_END jumping to ``entry`` (0: no jump)."""
    ld = s.loader
    for addr, data in segments:
        blocks = (len(data) + RAM_BLOCK - 1) // RAM_BLOCK
        ld.mem_begin(len(data), blocks, RAM_BLOCK, addr)
        for seq in range(blocks):
            ld.data_command(op.MEM_DATA, data[seq * RAM_BLOCK : (seq + 1) * RAM_BLOCK], seq)
    ld.mem_end(entry)


def _segments(image: StubImage) -> list[tuple[int, bytes]]:
    return [(image.text_start, image.text)] + ([(image.data_start, image.data)] if image.data else [])


def run_stub(s: Session, image: StubImage) -> bool:
    """Upload and start the stub; on no greeting fall back to the ROM loader with a warning."""
    s.progress.note("Uploading stub...")
    load_ram_segments(s, _segments(image), image.entry)
    if not s.loader.wait_greeting():
        values = _who_answers(s)
        if values is None:
            raise ProtocolError("the stub did not start and the ROM loader no longer answers",
                                hint="reset the chip and retry with --no-stub")
        if any(values):
            s.progress.warn("the stub did not greet within 3 s; going on with the ROM loader")
            return False
    _stub_started(s)
    return True


def _who_answers(s: Session) -> list[int] | None:
    """No greeting came after a stub upload: SYNC tells which loader answers (None: none; non-zero
    values: the ROM). All zeros: the stub runs and its greeting was lost on the line, which is said;
    the loader that answers decides."""
    values = _try_sync(s.loader)
    if values is not None and not any(values):
        s.progress.warn("the stub's greeting was lost, but the stub answers")
    return values


class _Stage1Failed(ProtocolError):
    """The stage-1 start went wrong (message: what); the caller falls back to the plain start."""


def run_stub_via_loader(s: Session, image: StubImage, baud: int, before: str, attempts: int) -> bool:
    """Two-stage start for a ROM that cannot change its baud rate: upload ``image.stage1`` at the
    ROM's rate, wait for its greeting, have it change the baud rate, upload the stub through it at
    ``baud`` and start it. True: the stub runs at ``baud``. False: something failed; the ROM loader
    answers again at the ROM's rate (after a reset if stage 1 had started) and the caller uploads
    the stub the usual way. Raises only if the chip cannot be brought back to its ROM loader."""
    stage1 = image.stage1
    assert stage1 is not None
    rom_baud = s.transport.baud
    size = len(stage1.text) + len(stage1.data)
    s.progress.note(f"Uploading stub via a {size}-byte loader at {baud}")
    started = False
    try:
        try:
            load_ram_segments(s, _segments(stage1), stage1.entry)
        except CommandFailed as e:  # the ROM refused the loader: it still answers
            raise _Stage1Failed(f"the ROM refused the loader ({e})") from e
        started = True
        if not s.loader.wait_greeting(T.STAGE1_GREETING, STAGE1_HI):
            raise _Stage1Failed("the loader did not greet")
        load_via_stage1(s, image, baud)
    except ProtocolError as e:
        s.progress.warn(f"fast stub start failed ({e}); uploading it at {rom_baud}")
        _back_to_rom(s, rom_baud, started, before, attempts)
        return False
    _stub_started(s)
    return True


def load_via_stage1(s: Session, image: StubImage, baud: int) -> None:
    """Stage 1 greeted: have it change the baud rate to ``baud``, load ``image`` through it and wait
    for the stub's greeting. Raises ProtocolError (or a subclass) when a step fails."""
    # stage 1 takes (new, old) as our stub does: divider × old / new
    s.loader.command(op.CHANGE_BAUDRATE, _u32s(baud, s.transport.baud))
    s.transport.set_baud(baud)
    time.sleep(0.01)  # stage 1 switches 1.2 ms after its reply has left
    s.loader.flush_input()
    load_ram_segments(s, _segments(image), image.entry)
    if not s.loader.wait_greeting():
        values = _who_answers(s)  # stage 1, still running when the jump failed, answers no SYNC
        if values is None or any(values):
            raise _Stage1Failed(f"the stub did not greet at {baud}")


def _back_to_rom(s: Session, rom_baud: int, started: bool, before: str, attempts: int) -> None:
    """After a failed two-stage start: the ROM loader answers again at ``rom_baud``. A ROM that never
    started stage 1 still answers; stage 1 answers no SYNC, so once it ran, only a reset helps."""
    s.transport.set_baud(rom_baud)
    s.loader.flush_input()
    s.loader.dirty = False
    values = _try_sync(s.loader)
    if values is not None and any(values):
        return
    if not started or before in ("no_reset", "no_reset_no_sync") or not _sequences(
            s.registry, before, s.transport, s.chip):
        raise ProtocolError("the stage-1 loader failed and the chip cannot be reset from here",
                            hint="reset the chip into its download mode and retry (with a lower --baud, or --no-stub)")
    sync_loader(s.registry, s.transport, s.loader, before, attempts, s.chip, s.progress)
    s.loader.status_bytes = 2


def _stub_started(s: Session) -> None:
    """The stub greeted: talk to it from now on and ask for its protocol version."""
    s.use_loader(True)
    s.stub_version = negotiate_stub(s)
    s.progress.note("Stub running" + (f" (esptk stub protocol {s.stub_version.protocol})" if s.stub_version else ""))


def change_baud(s: Session, baud: int) -> None:
    if not s.flash.change_baud:
        s.progress.warn(f"{s.chip.description} ROM cannot change the baud rate; staying at {s.transport.baud}")
        return
    old = s.transport.baud
    value = s.flash.baud_value(s.loader, baud)
    s.loader.command(op.CHANGE_BAUDRATE, _u32s(value, old if s.stub else 0), check=False)
    s.progress.note(f"Changed baud rate to {baud}")
    s.transport.set_baud(baud)
    time.sleep(0.05)
    s.loader.flush_input()


def _u32s(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)
