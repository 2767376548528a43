"""The virtual chip: bytes in, bytes out. Pure and deterministic: time is an input.

The caller (the in-process transport or a server) feeds received bytes with ``receive(data, now)``
and collects what the chip sent with ``poll(now)``; every output chunk carries the virtual time at
which its last byte has left the chip. With the timing model off, all times equal ``now``.

The engine knows no chip by name: a :class:`~esptk.simchip.SimChip` from the chip plugin supplies
the facts; :mod:`.rom` and :mod:`.stub` implement the two loaders. ``loader`` names what runs
(``rom``, ``esptk-stub``, ``esptk-stage1``, ``esptool-stub``, ``program``, ``app``, ``exception``); only
the ROM, a recognised flasher stub and esptk's stage-1 loader answer the loader protocol. Notable
events go to ``log``.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from esptk.protocol import slip
from esptk.simchip import SimChip, program_digest

from .faults import FaultInjector
from .memory import AddressSpace, BusFault
from .nor import NorFlash
from .options import SimOptions
from .timing import STUB_START, LoaderModel, model_for
from .uart import resample, same_rate

#: a ROM's value field before the first READ_REG (any non-zero junk)
INITIAL_JUNK = 0x00000733
#: EN must stay high this long before the chip samples GPIO0 (RC delay on the EN pin)
STRAP_DELAY = 0.025
OHAI = b"OHAI"


@dataclass
class Request:
    op: int
    payload: bytes
    checksum: int


class VirtualChip:
    """One chip: ROM loader after a reset into download mode, stub after MEM_END jumps."""

    def __init__(self, chip: SimChip, options: SimOptions, flash: NorFlash | None = None) -> None:
        from .rom import RomLoader

        self.chip = chip
        self.options = options
        self.flash = flash or NorFlash(options.flash_size)
        self.flash.stuck.update(dict.fromkeys(options.stuck_bits, 0x01))
        self.flash_id = options.flash_id
        self.timing = options.timing
        self.faults = FaultInjector(options.faults)
        self.mem = AddressSpace(chip, self._visible_flash_id, self._uart_divider, lambda: self.flash.size)
        self.decoder = slip.SlipDecoder()
        self.out: deque[tuple[float, bytes]] = deque()
        self.host_baud = options.baud
        self.strict_baud = False  #: garble bytes when host and chip rates differ (in-process link)
        self.chip_baud: int | None = None  #: None: the ROM autobauds on the next bytes it receives
        self.now = 0.0
        self.busy_until = 0.0  #: the chip works (erase, write) until then
        self.tx_free = 0.0  #: the chip's UART transmitter is free from then on
        self.rx_free = 0.0  #: the last byte sent by the host so far arrives then
        self.rx_count = 0
        self.state = "off"  #: off | reset | rom | stub | app | hung
        self.handler: object = RomLoader(self)  #: the loader model that answers frames
        #: what runs: rom | esptk-stub | esptk-stage1 | esptool-stub | program | app | exception
        self.loader = "rom"
        self.log: list[str] = []  #: notable events (unknown programs, exceptions), oldest first
        self.on_log: Callable[[str], None] | None = None
        self.ram_segments: dict[int, bytearray] = {}  #: loaded by MEM_DATA since the last reset or jump
        #: our stub's protocol version while it runs (the stub_protocol option, else our_protocol)
        self.stub_protocol = 1
        self.our_protocol = 1  #: the protocol of the chip plugin's stub image (set by the factory)
        #: the host follows CHANGE_BAUDRATE by itself (TCP: no way to see the host's rate)
        self.host_follows_baud = False
        self.attached = False
        self.flash_limit: int | None = None
        self.last_value = INITIAL_JUNK
        self.dtr = self.rts = False
        self.lines_wired = False  #: DTR/RTS drive EN and GPIO0 (else GPIO0 is strapped low)
        self._en_rise: float | None = None

    # --- I/O ----------------------------------------------------------------------------------
    def receive(self, data: bytes, now: float) -> None:
        """Bytes from the host, which finished sending them at ``now``."""
        self._advance(now)
        if self.state in ("off", "reset", "hung") or not data:
            return
        data, extra = self.faults.apply(data, "rx")
        if self.chip_baud is None:
            self.chip_baud = self.host_baud  # ROM autobaud
        if self.strict_baud and not same_rate(self.host_baud, self.chip_baud):
            data = resample(data, self.host_baud, self.chip_baud)
        t = now
        if self.timing.link:  # the bytes arrive one line time after another, after the bridge latency
            t = max(now + self.timing.latency + extra, self.rx_free) + len(data) * self.byte_time(self.host_baud)
            self.rx_free = t
        o = self.options.faults
        events = [(lim, kind) for lim, kind in ((o.reset_at, "reset"), (o.hang_at, "hang"))
                  if lim is not None and self.rx_count < lim <= self.rx_count + len(data)]
        if events:
            lim, kind = min(events)
            self._feed(data[: lim - self.rx_count], t)
            self.rx_count = lim
            if kind == "reset":
                self.reset("poweron", download=True, at=t)
            else:
                self.state = "hung"
                self.out = deque(c for c in self.out if c[0] <= t)
            return
        self.rx_count += len(data)
        self._feed(data, t)

    def _feed(self, data: bytes, t: float) -> None:
        for frame in self.decoder.feed(data):
            if self.state in ("rom", "stub"):
                self._frame(frame, t)

    def poll(self, now: float) -> bytes:
        """Everything the chip has sent by ``now``."""
        self._advance(now)
        out = bytearray()
        while self.out and self.out[0][0] <= now:
            out += self.out.popleft()[1]
        return bytes(out)

    def next_output(self) -> float | None:
        """When the next output chunk is complete (None: nothing pending)."""
        if self._en_rise is not None:
            return self._en_rise + STRAP_DELAY
        return self.out[0][0] if self.out else None

    def set_host_baud(self, baud: int) -> None:
        self.host_baud = baud

    # --- control lines and resets -------------------------------------------------------------
    def set_lines(self, dtr: bool | None, rts: bool | None, now: float) -> None:
        """DTR/RTS through the usual two-transistor circuit: RTS alone = EN low, DTR alone = GPIO0 low."""
        self._advance(now)
        self.lines_wired = True
        was_low = self._en_low()
        if dtr is not None:
            self.dtr = dtr
        if rts is not None:
            self.rts = rts
        if self._en_low():
            self.state, self._en_rise = "reset", None
            self.out = deque(c for c in self.out if c[0] <= now)
        elif was_low:
            self._en_rise = now

    def _en_low(self) -> bool:
        return self.rts and not self.dtr

    def strap_download(self) -> bool:
        """GPIO0 is low: a reset enters the ROM loader."""
        return (self.dtr and not self.rts) if self.lines_wired else True

    def _advance(self, now: float) -> None:
        self.now = max(self.now, now)
        if self._en_rise is not None and now >= self._en_rise + STRAP_DELAY:
            at = self._en_rise + STRAP_DELAY
            self._en_rise = None
            self.reset("poweron", download=self.strap_download(), at=at)

    def power_on(self, now: float = 0.0, quiet: bool = False) -> None:
        self.reset("poweron", download=True, at=now, quiet=quiet)

    def reset(self, reason: str, download: bool, at: float, quiet: bool = False) -> None:
        """The chip restarts: ROM loader (``download``) or the app in flash; RAM keeps its content."""
        from .rom import RomLoader

        self.out = deque(c for c in self.out if c[0] <= at)  # bytes already on the wire stay there
        self.decoder.reset()
        self.mem.reset()
        self.handler = RomLoader(self)
        self.loader = "rom" if download else "app"
        self.ram_segments = {}
        self.attached = False
        self.flash_limit = self.chip.rom_default_flash_size
        self.last_value = INITIAL_JUNK
        self.chip_baud = None
        self.busy_until = self.tx_free = at
        self.state = "rom" if download else "app"
        if not quiet:
            text = self.chip.boot_log(reason, download)
            if text:
                if not same_rate(self.chip.boot_log_baud, self.host_baud):
                    text = resample(text, self.chip.boot_log_baud, self.host_baud)
                self._emit(text, at, garble=False)

    # --- framing and replies ------------------------------------------------------------------
    def _frame(self, frame: bytes, t: float) -> None:
        raw = getattr(self.handler, "raw_frame", None)
        if raw is not None and raw(frame, t):
            return
        if len(frame) < 8 or frame[0] != 0x00:
            return  # not a request: ignored
        op, size, chk = struct.unpack_from("<BHI", frame, 1)
        payload = frame[8:]
        start = max(t, self.busy_until)
        if len(payload) != size:
            self.handler.malformed(op, start)  # type: ignore[attr-defined]
            return
        try:
            self.handler.handle(Request(op, payload, chk), start)  # type: ignore[attr-defined]
        except BusFault as e:
            self.exception(e)

    def exception(self, fault: BusFault) -> None:
        """A load/store exception in the loader: it stops answering until the next reset.

        PROTOCOL.md section 14 (UNCERTAIN there, chosen here): where no memory or device answers,
        the CPU most likely takes an exception and the loader falls silent until reset.
        """
        self.note(f"{self.loader}: {fault}: the CPU takes an exception; silent until reset")
        self.state, self.loader = "hung", "exception"  # replies already queued still leave the UART

    def note(self, text: str) -> None:
        """One line on the virtual chip's log."""
        self.log.append(text)
        if self.on_log is not None:
            self.on_log(text)

    def _uart_divider(self) -> int:
        return int(self.chip.uart_clock_hz // (self.chip_baud or self.host_baud))

    def _visible_flash_id(self) -> int | None:
        return self.flash_id if self.attached or self.state == "stub" else None

    def byte_time(self, baud: int | None = None) -> float:
        if not self.timing.link:
            return 0.0
        return 10.0 / (baud or self.chip_baud or self.host_baud)

    def _emit(self, data: bytes, at: float, garble: bool = True) -> float:
        """Queue ``data`` to leave the chip from ``at`` on; returns when its last byte is out."""
        if self.state == "hung":
            return at
        baud = self.chip_baud or self.host_baud
        start = max(at, self.tx_free) if self.timing.link else at
        end = start + len(data) * self.byte_time()
        self.tx_free = end
        data, extra = self.faults.apply(data, "tx")
        if garble and self.strict_baud and not same_rate(baud, self.host_baud):
            data = resample(data, baud, self.host_baud)
        ready = end + extra + (self.timing.latency if self.timing.link else 0.0)
        if self.out:  # a held-back chunk holds back everything after it: the line keeps the order
            ready = max(ready, self.out[-1][0])
        if data:
            self.out.append((ready, data))
        return end

    def send_raw(self, data: bytes, at: float) -> float:
        """Bytes outside any SLIP frame (noise, log text)."""
        return self._emit(data, at)

    def send_frame(self, payload: bytes, at: float) -> float:
        return self._emit(slip.encode(payload), at)

    def reply(self, op: int, at: float, data: bytes = b"", status: bytes = b"", value: int = 0) -> float:
        body = data + status
        return self.send_frame(struct.pack("<BBHI", 0x01, op, len(body), value) + body, at)

    def work(self, start: float, seconds: float) -> float:
        """The chip is busy for ``seconds`` from ``start`` (timing model); returns the end time."""
        if not self.timing.flash:
            return start
        self.busy_until = max(self.busy_until, start) + seconds
        return self.busy_until

    def loaded(self, segment_start: int, data: bytes) -> None:
        """MEM_DATA put ``data`` at the end of the segment that MEM_BEGIN opened at ``segment_start``."""
        self.ram_segments.setdefault(segment_start, bytearray()).extend(data)

    def mem_begin(self, addr: int) -> None:
        self.ram_segments[addr] = bytearray()

    def start_program(self, entry: int, at: float) -> None:
        """MEM_END jumps to ``entry``: a known flasher stub greets, any other program is not a loader.

        Programs are named by :func:`esptk.simchip.program_digest` of the segments loaded since the
        last reset or program start; the chip plugin lists the flasher stubs (contract B).
        """
        digest = program_digest((a, bytes(d)) for a, d in self.ram_segments.items())
        segments = [(a, a + len(d)) for a, d in self.ram_segments.items()]
        self.ram_segments = {}
        name = self.chip.flasher_stubs.get(digest)
        if name == "esptk-stage1":
            self.start_stage1(at, segments)
            return
        if name is None:
            self.note(f"{self.loader}: MEM_END started an unknown program at 0x{entry:08x} (sha256 {digest}): "
                      "not a flasher stub, it ignores the loader protocol until reset")
            self.state, self.loader = "app", "program"
            return
        self.start_stub(at, name)

    def start_stub(self, at: float, name: str = "esptk-stub") -> None:
        """A flasher stub runs: it greets with OHAI and speaks the stub protocol."""
        from .stub import StubLoader

        self.state = "stub"
        self.loader = name
        self.stub_protocol = (self.options.stub_protocol or self.our_protocol) if name == "esptk-stub" else 1
        self.handler = StubLoader(self)
        self.attached = True
        self.flash_limit = 16 * 1024 * 1024
        self.send_frame(OHAI, at + (STUB_START if self.timing.flash else 0.0))

    def start_stage1(self, at: float, segments: list[tuple[int, int]]) -> None:
        """esptk's stage-1 loader runs (:mod:`.stage1`): it greets with S1HI after the same start-up
        time as a stub and loads the next program at the baud rate it is told."""
        from .stage1 import GREETING, Stage1Loader

        self.state = "stub"
        self.loader = "esptk-stage1"
        self.handler = Stage1Loader(self, segments)
        self.send_frame(GREETING, at + (STUB_START if self.timing.flash else 0.0))

    @property
    def model(self) -> LoaderModel:
        """How the running loader overlaps receiving and flash work (:mod:`.timing`)."""
        return model_for(self.loader, self.stub_protocol, self.options.stub_in_flight)

    def inflate_rate(self) -> float:
        return self.timing.inflate_rate or self.model.inflate_rate

    def run_app(self) -> None:
        """The chip leaves the loader (runs the app in flash): it no longer answers the loader protocol."""
        self.state = "app"
        self.loader = "app"

    def change_baud(self, new_baud: int, at: float) -> None:
        """After the reply has left at the old rate, the chip's UART switches to ``new_baud``."""
        self.tx_free = max(self.tx_free, at)
        self.chip_baud = new_baud
        if self.host_follows_baud:
            self.host_baud = new_baud
