"""The protocol engine: commands to a ROM loader or stub over a :class:`~esptk.transport.Transport`.

A :class:`Loader` sends requests, waits for the matching response and turns error statuses into
:class:`~esptk.errors.CommandFailed`. It knows nothing about chips beyond the number of status
bytes its loader appends; chip knowledge arrives through :class:`~esptk.chip.ChipSpec` and
:class:`~esptk.flashproto.FlashProtocol`.

Late replies. Replies carry no sequence number and no address, so after a command timed out its
reply may still arrive and would be taken as the answer to the next command. After any timeout
the link is therefore *dirty*, and the next command first puts a barrier on it (:meth:`Loader.settle`):
a SYNC request, whose replies have their own opcode. Loaders answer requests in order and the
line keeps the order of bytes, so everything that arrives before the first SYNC reply belongs to an
earlier request and is dropped; after the SYNC replies and a short quiet time the link is clean.
The SYNC value also tells which loader answers (ROM: non-zero, stub: 0), so a chip that reset
into its ROM in the middle of an operation is noticed (:class:`~esptk.errors.LoaderChanged`).
"""

from __future__ import annotations

import re
import struct
import time
from collections import deque
from collections.abc import Callable

from .errors import CommandFailed, CommandTimeout, LoaderChanged, ProtocolError, UnsupportedCommand
from .protocol import op, slip
from .protocol import timeouts as T
from .protocol.packets import (
    OHAI,
    SYNC_PAYLOAD,
    Reply,
    checksum,
    data_payload,
    describe_status,
    is_unsupported,
    parse_reply,
    request,
    split_status,
)
from .transport import Transport

#: a callback receiving (direction "out"/"in"/"noise", bytes) for --trace
Tracer = Callable[[str, bytes], None]

CRASH_MARKERS = (b"Guru Meditation", b"Fatal exception", b"Exception (")
MAX_FRAMES_PER_COMMAND = 100
READ_ATTEMPTS = 3
SETTLE_ATTEMPTS = 3
#: requests that do no harm when the chip gets them twice (data blocks: their sequence number
#: makes a loader refuse a second copy); anything else that timed out is not sent again here
RESENDABLE = frozenset({
    op.READ_REG, op.WRITE_REG, op.SPI_ATTACH, op.SPI_SET_PARAMS, op.SPI_FLASH_MD5, op.MEM_BEGIN,
    op.MEM_DATA, op.FLASH_DATA, op.FLASH_DEFL_DATA, op.READ_FLASH_SLOW, op.GET_SECURITY_INFO,
})
#: replies a ROM sends to one SYNC (PROTOCOL.md: 8 on real ROMs); after the last, nothing waits
SYNC_REPLIES = 8
QUIET = 0.1  #: seconds without a byte after the barrier's replies: the link is clean
#: the first status byte of a ROM's error reply; stub error codes are never 1
ROM_FAILURE = 1


def _complete(frame: bytes) -> bool:
    """The frame holds as many bytes as its header's size field says (none was lost)."""
    return len(frame) >= 8 + struct.unpack_from("<H", frame, 2)[0]


class Loader:
    """Talks to one loader. ``status_bytes`` is 2 (ESP8266 ROM, any stub) or 4 (ESP32 ROM)."""

    def __init__(self, transport: Transport, trace: Tracer | None = None, status_bytes: int = 2) -> None:
        self.transport = transport
        self.trace = trace
        self.status_bytes = status_bytes
        self.stub = False
        self._decoder = slip.SlipDecoder()
        self._frames: deque[bytes] = deque()
        self.noise = bytearray()  #: text seen outside frames since the last flush (boot log)
        self.dirty = False  #: a reply may still be on its way: settle before the next command
        self.late: list[Reply] = []  #: replies the last settle found before its barrier
        self.resent = False  #: the last command's request went out more than once
        self.sends = 0  #: how many times the last command's request went out

    # --- framing ------------------------------------------------------------------------------
    def flush_input(self) -> None:
        self.transport.flush_input()
        self._decoder.reset()
        self._frames.clear()
        self.noise.clear()

    def send_frame(self, packet: bytes) -> None:
        if self.trace:
            self.trace("out", packet)
        self.transport.write(slip.encode(packet))

    def read_frame(self, timeout: float) -> bytes:
        """The next SLIP frame; CommandTimeout if none completes within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._frames:
            left = deadline - time.monotonic()
            if left <= 0:
                if self._decoder.in_frame:
                    raise CommandTimeout("the reply stopped in the middle of a packet")
                self._check_noise(final=True)
                raise CommandTimeout(f"no reply within {timeout:g} s")
            chunk = self.transport.read(4096, min(left, 0.5))
            if not chunk:
                continue
            before = len(self._decoder.noise)
            self._frames.extend(self._decoder.feed(chunk))
            if len(self._decoder.noise) != before:
                fresh = bytes(self._decoder.noise[before:])
                self.noise += fresh
                if self.trace:
                    self.trace("noise", fresh)
                self._check_noise()
        frame = self._frames.popleft()
        if self.trace:
            self.trace("in", frame)
        return frame

    def _check_noise(self, final: bool = False) -> None:
        text = bytes(self.noise)
        for marker in CRASH_MARKERS:
            i = text.find(marker)
            if i >= 0 and (final or b"\n" in text[i:]):
                line = text[i:].split(b"\n", 1)[0].decode("ascii", "replace").strip()
                raise ProtocolError(f"the chip crashed: {line}",
                                    hint="the program running on the chip failed; reset it into the bootloader")

    def boot_mode(self) -> tuple[str | None, bool]:
        """From the boot log seen so far: (boot mode "0x.." or None, "waiting for download" seen)."""
        text = bytes(self.noise).decode("ascii", "replace")
        boots = list(re.finditer(r"boot:(0x[0-9a-fA-F]+)", text))
        if not boots:
            return None, "waiting for download" in text
        last = boots[-1]  # the chip may have booted more than once: the last boot counts
        return last.group(1), "waiting for download" in text[last.end():]

    # --- commands -----------------------------------------------------------------------------
    def command(
        self, opcode: int, payload: bytes = b"", chk: int = 0, timeout: float | None = None,
        data_len: int = 0, check: bool = True, attempts: int | None = None,
    ) -> Reply:
        """Send one request and return its reply (status split off). Raise on an error status
        unless ``check`` is false. A request that may be sent twice (:data:`RESENDABLE`) whose
        reply does not come in time is settled: its late reply is taken if the barrier brings it
        in, otherwise the request goes out again, up to ``attempts`` times in all (default
        :data:`READ_ATTEMPTS`)."""
        if opcode not in RESENDABLE:
            attempts = 1
        elif attempts is None:
            attempts = READ_ATTEMPTS
        attempts = max(1, attempts)
        timed_out: CommandTimeout | None = None
        for attempt in range(attempts):
            if self.dirty:
                try:
                    self.settle()
                except CommandTimeout as e:
                    if timed_out is None:
                        raise
                    raise CommandTimeout(f"{timed_out}; the chip no longer answers (no reply to SYNC either)") from e
                late = next((r for r in self.late if r.opcode == opcode), None) if attempt else None
                if late is not None:
                    return self._finish(late, opcode, data_len, check)
            self.resent = attempt > 0
            self.sends = attempt + 1
            self.send_frame(request(opcode, payload, chk))
            try:
                return self.wait_reply(opcode, timeout, data_len, check)
            except CommandTimeout as e:
                if attempt == attempts - 1:
                    raise
                timed_out = e
        raise AssertionError("unreachable")

    def wait_reply(self, opcode: int, timeout: float | None = None, data_len: int = 0,
                   check: bool = True) -> Reply:
        if timeout is None:  # the default as it is now (a config file may have set it after import)
            timeout = T.DEFAULT
        deadline = time.monotonic() + min(timeout, T.MAX)
        for _ in range(MAX_FRAMES_PER_COMMAND):
            try:
                frame = self.read_frame(max(deadline - time.monotonic(), 0.001))
            except CommandTimeout as e:
                self.dirty = True
                if "middle" in str(e):
                    raise CommandTimeout(f"the reply to {op.name(opcode)} stopped in the middle of a packet") from e
                raise CommandTimeout(f"no reply to {op.name(opcode)} within {timeout:g} s") from e
            reply = parse_reply(frame)
            if reply is None or not _complete(frame):
                continue  # not a reply, or one that lost bytes: its request times out and is settled
            if reply.opcode != opcode:
                other = split_status(reply, self.status_bytes)
                if other.status[:2] == b"\x01\x05":  # the ROM's answer to an unknown opcode
                    self._drain_after_unsupported()
                    raise UnsupportedCommand(f"the loader does not support {op.name(opcode)}", other.code)
                continue
            return self._finish(reply, opcode, data_len, check)
        raise ProtocolError(f"no reply to {op.name(opcode)} among {MAX_FRAMES_PER_COMMAND} packets",
                            hint="the line carries traffic that is not for us: check the port")

    def _finish(self, reply: Reply, opcode: int, data_len: int, check: bool) -> Reply:
        reply = split_status(reply, self.status_bytes, data_len)
        if self.stub and reply.failed and reply.status[0] == ROM_FAILURE:
            self.dirty = True  # the settle re-checks which loader answers
            raise LoaderChanged(f"the ROM loader answered {op.name(opcode)}: the chip has reset", reply.code)
        if check and reply.failed:
            cls = UnsupportedCommand if is_unsupported(reply) else CommandFailed
            raise cls(describe_status(reply, self.stub), reply.code)
        if check and len(reply.data) != data_len:
            raise ProtocolError(f"the reply to {op.name(opcode)} carries {len(reply.body)} bytes, "
                                f"expected {data_len} data and {self.status_bytes} status bytes",
                                hint="the line corrupts data, or --chip names the wrong chip")
        return reply

    def _drain_after_unsupported(self) -> None:
        time.sleep(0.2)
        self.flush_input()

    def settle(self, attempts: int = SETTLE_ATTEMPTS) -> int:
        """Put a barrier on the link (see the module doc) and return the SYNC value that answered
        it (ROM: non-zero, stub: 0). Raise :class:`LoaderChanged` if another loader answers than
        the one we talk to, CommandTimeout if nothing answers."""
        first = self.barrier(attempts)
        if first.failed and self.stub:  # a stub hands a deferred error to whatever comes next
            raise CommandFailed(describe_status(first, True), first.code)
        if (first.value != 0) == self.stub:
            self.dirty = True
            now = "the ROM loader" if first.value else "a stub"
            raise LoaderChanged(f"{now} answers: the chip has reset or changed loader")
        return first.value

    def barrier(self, attempts: int = SETTLE_ATTEMPTS) -> Reply:
        """SYNC, then drop everything up to its first reply and until the line is quiet; that
        first reply (status split off as 2 bytes). Replies dropped on the way are in :attr:`late`."""
        self.late = []
        for _ in range(attempts):
            self.send_frame(request(op.SYNC, SYNC_PAYLOAD))
            try:
                first = self._first_sync_reply(T.DEFAULT)
            except CommandTimeout:
                continue
            self._drain_quiet()
            self.dirty = False
            return first
        raise CommandTimeout(f"the chip no longer answers (no reply to SYNC after {attempts} tries)")

    def _first_sync_reply(self, timeout: float) -> Reply:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.read_frame(max(deadline - time.monotonic(), 0.001))
            reply = parse_reply(frame)
            if reply is None or not _complete(frame):
                continue
            if reply.opcode == op.SYNC:
                return split_status(reply, 2)
            self.late.append(reply)

    def _drain_quiet(self) -> None:
        """Read until the line is quiet. Nothing was sent after the barrier, so a reply other than
        SYNC seen here still answers a request from before it (a SYNC reply of an older barrier
        may have been taken as this one's first): it goes to :attr:`late` too."""
        while True:
            try:
                frame = self.read_frame(QUIET)
            except CommandTimeout:
                break
            reply = parse_reply(frame)
            if reply is not None and reply.opcode != op.SYNC and _complete(frame):
                self.late.append(reply)
        self._decoder.reset()

    # --- basic operations ---------------------------------------------------------------------
    def sync(self) -> list[int]:
        """One SYNC try: the value fields of the replies (ROM: non-zero, stub: 0)."""
        self.send_frame(request(op.SYNC, SYNC_PAYLOAD))
        first = self.wait_reply(op.SYNC, T.SYNC, check=False)
        values = [first.value]
        while len(values) < SYNC_REPLIES:  # the chip answers a SYNC several times (8 on real ROMs)
            try:
                frame = self.read_frame(0.05)
            except CommandTimeout:
                break
            r = parse_reply(frame)
            if r is not None and r.opcode == op.SYNC:
                values.append(r.value)
        self.dirty = False  # the SYNC replies were a barrier: earlier replies came before them
        return values

    def read_reg(self, addr: int) -> int:
        """READ_REG; a garbled or lost reply is asked for again (reading has no side effects)."""
        return self.command(op.READ_REG, struct.pack("<I", addr)).value

    def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF, delay_us: int = 0) -> None:
        self.command(op.WRITE_REG, struct.pack("<IIII", addr, value, mask, delay_us))

    def data_command(self, opcode: int, data: bytes, seq: int, timeout: float | None = None,
                     attempts: int | None = None) -> Reply:
        return self.command(opcode, data_payload(data, seq), checksum(data), timeout, attempts=attempts)

    def mem_begin(self, size: int, blocks: int, block_size: int, addr: int) -> None:
        self.command(op.MEM_BEGIN, struct.pack("<IIII", size, blocks, block_size, addr))

    def mem_end(self, entry: int) -> None:
        payload = struct.pack("<II", int(entry == 0), entry)
        if self.stub or entry == 0:
            self.command(op.MEM_END, payload)
            return
        # the ROM may jump before its reply leaves the UART: short timeout, errors ignored
        try:
            self.command(op.MEM_END, payload, timeout=T.MEM_END_ROM)
        except (CommandTimeout, CommandFailed):
            self.dirty = False  # the ROM is gone; its late reply comes before the program's first word

    def wait_greeting(self, timeout: float | None = None, greeting: bytes = OHAI) -> bool:
        """Wait for the stub's OHAI frame (or another ``greeting``); False if it does not come."""
        deadline = time.monotonic() + (T.STUB_GREETING if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                frame = self.read_frame(left)
            except CommandTimeout:
                return False
            if frame == greeting:
                return True

    def md5(self, addr: int, size: int, hex_reply: bool) -> bytes:
        """MD5 digest (16 bytes) of a flash region, computed by the chip."""
        timeout = T.scaled(T.MD5_PER_MB, size)
        r = self.command(op.SPI_FLASH_MD5, struct.pack("<IIII", addr, size, 0, 0), timeout=timeout,
                         data_len=32 if hex_reply else 16)
        if hex_reply:
            try:
                return bytes.fromhex(r.data.decode("ascii"))
            except ValueError:
                raise ProtocolError(f"MD5 reply is not hex: {r.data!r}") from None
        return r.data
