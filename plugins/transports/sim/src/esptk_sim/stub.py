"""The flasher stub, once MEM_END started a recognised one (PROTOCOL.md section 7, v2 stub).

Replies carry 2 status bytes, the error code first; the value field is 0. When and how data blocks
are acknowledged depends on which stub runs (``vc.model``, see :mod:`.timing`):

* esptool's stubs acknowledge a block once checked and write it while the next one arrives; a write or
  inflate error is returned as the status of the next command, which is then not executed.
* our stub, protocol 1 (``stubs/src/stub.c`` today): replies after the block is written, with the
  write's own status; GET_VERSION answers 16 bytes.
* our stub, protocol 2 (contract A): acknowledges on receipt, keeps a write error on every later
  data/END/MD5 reply until the next BEGIN, sends up to ``read_window`` READ_FLASH packets ahead of the
  host's acks; GET_VERSION answers 24 bytes.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from esptk.protocol import caps, op
from esptk.simchip import SimChip

from .nor import SECTOR, FlashRangeError
from .rom import MD5_RATE, SYNC_PAYLOAD, SYNC_REPLIES
from .timing import BLANK_READ_RATE
from .writes import Session, checksum, parse_data

if TYPE_CHECKING:
    from .engine import Request, VirtualChip

# stub error codes (first status byte, PROTOCOL.md 1.8)
BAD_LEN, BAD_CHECKSUM, BAD_BLOCKSIZE, INVALID_CMD, SPI_FAIL = 0xC0, 0xC1, 0xC2, 0xC3, 0xC4
NOT_IN_FLASH_MODE, INFLATE_ERR, NOT_ENOUGH, TOO_MUCH, NOT_IMPLEMENTED = 0xC6, 0xC7, 0xC8, 0xC9, 0xFF
ERASE_BAD_ADDR, ERASE_BAD_LEN, MD5_READ_FAIL = 0x32, 0x33, 0x63
MAX_BLOCK = 0x4000
MAX_PACKET = 0x1000

LENGTHS: dict[int, tuple[int, ...]] = {
    op.SYNC: (36,), op.ERASE_FLASH: (0,), op.ERASE_REGION: (8,), op.CHANGE_BAUDRATE: (8,),
    op.READ_FLASH: (16,), op.SPI_FLASH_MD5: (16,), op.FLASH_BEGIN: (16, 20), op.FLASH_DEFL_BEGIN: (16, 20),
    op.SPI_SET_PARAMS: (24,), op.SPI_ATTACH: (4,), op.READ_REG: (4,), op.MEM_BEGIN: (16,), op.MEM_END: (8,),
    op.FLASH_END: (4,), op.FLASH_DEFL_END: (4,), op.RUN_USER_CODE: (0,), op.SECTOR_MD5: (8,), op.GET_VERSION: (0,),
}
#: SECTOR_MD5 (esptk stub protocol v2) covers at most this many 4 KiB sectors per command
MAX_SECTORS = 1024
#: replies that carry a sticky write error (contract A)
STICKY_OPS = frozenset({op.FLASH_DATA, op.FLASH_DEFL_DATA, op.FLASH_END, op.FLASH_DEFL_END, op.SPI_FLASH_MD5})
BASE_CAPS = caps.DEFLATE | caps.READ_FLASH | caps.ERASE | caps.MD5 | caps.BEGIN_20


@dataclass
class ReadTransfer:
    addr: int
    length: int
    packet: int
    window: int = 1  #: packets sent ahead of the host's acks
    sent: int = 0
    acked: int = 0
    md5: hashlib._Hash = field(default_factory=hashlib.md5)


class StubLoader:
    def __init__(self, vc: VirtualChip) -> None:
        self.vc = vc
        self.session: Session | None = None
        self.pending = 0  #: deferred error code
        self.read: ReadTransfer | None = None
        self.idle_from = 0.0  #: when the stub last answered a write command (idle once its work is done)

    # --- replies ------------------------------------------------------------------------------
    def reply(self, opcode: int, at: float, code: int = 0, data: bytes = b"", value: int = 0) -> float:
        return self.vc.reply(opcode, at, data, bytes([code, 0]), value)

    def malformed(self, opcode: int, at: float) -> None:
        self.reply(opcode, at, BAD_LEN)

    # --- dispatch -----------------------------------------------------------------------------
    def handle(self, req: Request, at: float) -> None:
        o, p = req.op, req.payload
        if self.pending and self.vc.model.sticky_errors:
            if o in (op.FLASH_BEGIN, op.FLASH_DEFL_BEGIN):
                self.pending = 0
            elif o in STICKY_OPS:
                self.reply(o, at, self.pending)
                return
        elif self.pending:
            code, self.pending = self.pending, 0
            self.session = None
            self.reply(o, at, code)
            return
        if o in (op.GET_SECURITY_INFO,):
            self.reply(o, at, NOT_IMPLEMENTED)
            return
        handler = getattr(self, "do_" + op.name(o).lower(), None)
        if handler is None or o == op.READ_FLASH_SLOW:
            self.reply(o, at, INVALID_CMD)
            return
        if o in LENGTHS and len(p) not in LENGTHS[o]:
            if o != op.SYNC:
                self.reply(o, at, BAD_LEN)
            return
        if o == op.WRITE_REG and (not p or len(p) % 16):
            self.reply(o, at, NOT_ENOUGH)
            return
        handler(req, at)

    # --- registers, RAM, sync -------------------------------------------------------------------
    def do_sync(self, req: Request, at: float) -> None:
        if req.payload == SYNC_PAYLOAD:
            for _ in range(SYNC_REPLIES):
                self.reply(op.SYNC, at)

    def do_read_reg(self, req: Request, at: float) -> None:
        (addr,) = struct.unpack("<I", req.payload)
        self.reply(op.READ_REG, at, value=self.vc.mem.read_word(addr))  # no address check (PROTOCOL.md 14)

    def do_write_reg(self, req: Request, at: float) -> None:
        t = at
        for i in range(0, len(req.payload), 16):
            addr, value, mask, delay_us = struct.unpack_from("<IIII", req.payload, i)
            t = self.vc.work(t, delay_us / 1e6)  # the stub waits before writing
            self.vc.mem.write_word(addr, value, mask)
        self.reply(op.WRITE_REG, t)

    def do_mem_begin(self, req: Request, at: float) -> None:
        size, blocks, block_size, addr = struct.unpack("<IIII", req.payload)
        if not self.vc.mem.is_ram(addr, max(size, 1)):
            self.reply(op.MEM_BEGIN, at, BAD_LEN)
            return
        self.session = Session("mem", addr, size, blocks, block_size)
        self.vc.mem_begin(addr)
        self.reply(op.MEM_BEGIN, at)

    def _block(self, req: Request, at: float, kind: str) -> tuple[Session, bytes] | None:
        s, parsed = self.session, parse_data(req.payload)
        if s is None or s.kind != kind:
            self.reply(req.op, at, NOT_IN_FLASH_MODE)
            return None
        if parsed is None or parsed[0] != len(parsed[2]):
            self.reply(req.op, at, TOO_MUCH)
            return None
        if checksum(parsed[2]) != req.checksum & 0xFF:
            self.reply(req.op, at, BAD_CHECKSUM)
            return None
        return s, parsed[2]

    def do_mem_data(self, req: Request, at: float) -> None:
        got = self._block(req, at, "mem")
        if got is None:
            return
        s, data = got
        if len(data) % 4:
            self.reply(op.MEM_DATA, at, BAD_LEN)
            return
        if len(data) > s.remaining:
            self.reply(op.MEM_DATA, at, TOO_MUCH)
            return
        self.vc.mem.write_bytes(s.cursor, data)
        self.vc.loaded(s.offset, data)
        s.cursor += len(data)
        s.remaining -= len(data)
        self.reply(op.MEM_DATA, at)

    def do_mem_end(self, req: Request, at: float) -> None:
        no_entry, entry = struct.unpack("<II", req.payload)
        s, self.session = self.session, None
        if s is not None and s.kind == "mem" and s.remaining:
            self.reply(op.MEM_END, at, NOT_ENOUGH)
            return
        end = self.reply(op.MEM_END, at)
        if no_entry == 0 and entry:
            self.vc.start_program(entry, end)

    # --- flash writes ---------------------------------------------------------------------------
    def do_flash_begin(self, req: Request, at: float, kind: str = "flash") -> None:
        size, blocks, block_size, offset = struct.unpack_from("<IIII", req.payload)
        encrypt = len(req.payload) == 20 and struct.unpack_from("<I", req.payload, 16)[0] == 1
        if encrypt and (offset % 32 or self.vc.chip.flash_encrypt(offset, b"") is None):
            self.reply(req.op, at, SPI_FAIL)  # no engine or no key burnt: refused
            return
        if block_size > MAX_BLOCK:
            self.reply(req.op, at, BAD_BLOCKSIZE)
            return
        limit = min(self.vc.flash.size, self.vc.flash_limit or self.vc.flash.size)
        if offset + size > limit:
            self.reply(req.op, at, SPI_FAIL)
            return
        self.session = Session(kind, offset, size, blocks, block_size, encrypt=encrypt)
        self.idle_from = self.reply(req.op, at)

    def do_flash_defl_begin(self, req: Request, at: float) -> None:
        self.do_flash_begin(req, at, "defl")

    def do_flash_data(self, req: Request, at: float, kind: str = "flash") -> None:
        got = self._block(req, at, kind)
        if got is None:
            return
        s, data = got
        if self.vc.model.erases_when_idle:
            self._erase_while_idle(s, at)
        cost, code = self._write(s, data, kind)
        if self.vc.model.ack_on_receipt:
            self.idle_from = self.reply(req.op, at)  # acknowledged before it is written
            self.pending = self.pending or code
            self.vc.work(at, cost)
            return
        end = self.vc.work(at, cost)  # stop-and-wait: the reply follows the work and carries its status
        if code:
            self.session = None  # a failed write ends the transfer
        self.reply(req.op, end, code)

    @property
    def _blank_read_rate(self) -> float:
        """How fast the running stub reads a unit to see whether it is blank (0: it never checks)."""
        return BLANK_READ_RATE if self.vc.model.skips_blank else 0.0

    def _erase_while_idle(self, s: Session, arrived: float) -> None:
        """Our stub's idle loop (stubs/src/stub.c ``idle``): while no frame is complete and the flash
        is free, it starts the next erase of the region (after its blank check). Each one started
        before ``arrived`` (when this block was complete) runs to its end; the block waits for it."""
        if not self.vc.timing.flash:
            return
        t = max(self.vc.busy_until, self.idle_from)
        while t < arrived and s.erase_next < s.erase_end:
            try:
                cost = s.erase_ahead(self.vc.flash, s.erase_next + 1, self._blank_read_rate)  # one unit
            except FlashRangeError:
                return  # the block's own write reports it
            t = self.vc.work(t, cost)

    def _write(self, s: Session, data: bytes, kind: str) -> tuple[float, int]:
        """Inflate (defl), erase ahead and program one block: (seconds it takes, error code or 0)."""
        inflating, code = 0.0, 0
        if kind == "defl":
            assert s.inflater is not None
            try:
                data = s.inflater.decompress(data)
            except zlib.error:
                return 0.0, INFLATE_ERR
            inflating = len(data) / self.vc.inflate_rate()
            if len(data) > s.remaining:
                code = TOO_MUCH
        data = data[: s.remaining]
        erasing = programming = 0.0
        addr, out = s.cursor, data
        if s.encrypt:
            addr, out = self._encrypt_units(s, data)
        try:
            erasing = s.erase_ahead(self.vc.flash, s.cursor + len(data), self._blank_read_rate)
            programming = self.vc.flash.program(addr, out, skip_ones=self.vc.model.skips_blank and not s.encrypt)
        except FlashRangeError:
            code = SPI_FAIL
        s.cursor += len(data)
        s.remaining -= len(data)
        if self.vc.model.inflate_overlaps_program:  # a page programs while the next bytes inflate
            return erasing + max(inflating, programming), code
        return erasing + inflating + programming, code

    def _encrypt_units(self, s: Session, data: bytes) -> tuple[int, bytes]:
        """The engine encrypts whole 32-byte units: bytes of a unit not yet complete wait for the
        next block (inflated pieces come in any length). Returns (address, ciphertext to program)."""
        buf = s.carry + data
        start = s.cursor - len(s.carry)
        last = len(data) >= s.remaining
        n = len(buf) if last else len(buf) - len(buf) % 32
        s.carry = buf[n:]
        if last and n % 32:
            self.pending = BAD_LEN  # the host must pad encrypted data to whole units
            return start, b""
        return start, (self.vc.chip.flash_encrypt(start, buf[:n]) or b"") if n else b""

    def do_flash_defl_data(self, req: Request, at: float) -> None:
        self.do_flash_data(req, at, "defl")

    def do_flash_end(self, req: Request, at: float) -> None:
        (flag,) = struct.unpack("<I", req.payload)
        s, self.session = self.session, None
        if s is None or s.kind == "mem":
            self.reply(req.op, at, NOT_IN_FLASH_MODE)
            return
        if s.remaining:
            self.reply(req.op, at, BAD_LEN)
            return
        end = self.reply(req.op, at)
        if flag == 0:
            self.vc.reset("software", download=self.vc.strap_download(), at=end + 0.010)

    def do_flash_defl_end(self, req: Request, at: float) -> None:
        self.do_flash_end(req, at)

    # --- flash commands -----------------------------------------------------------------------
    def do_spi_attach(self, req: Request, at: float) -> None:
        self.vc.attached = True
        self.reply(op.SPI_ATTACH, at)

    def do_spi_set_params(self, req: Request, at: float) -> None:
        _id, total, _block, _sector, _page, _mask = struct.unpack("<6I", req.payload)
        self.vc.flash_limit = total
        self.reply(op.SPI_SET_PARAMS, at)

    def do_change_baudrate(self, req: Request, at: float) -> None:
        new, _old = struct.unpack("<II", req.payload)
        self.vc.change_baud(new, self.reply(op.CHANGE_BAUDRATE, at) + 0.011)

    def do_spi_flash_md5(self, req: Request, at: float) -> None:
        addr, size, _z1, _z2 = struct.unpack("<IIII", req.payload)
        try:
            digest = hashlib.md5(self.vc.flash.read(addr, size)).digest()
        except FlashRangeError:
            self.reply(op.SPI_FLASH_MD5, at, MD5_READ_FAIL)
            return
        self.reply(op.SPI_FLASH_MD5, self.vc.work(at, size / MD5_RATE), data=digest)

    def do_sector_md5(self, req: Request, at: float) -> None:
        """esptk's stub only: the MD5 of each of ``count`` sectors from ``offset``, 16 bytes each."""
        if self.vc.loader != "esptk-stub":  # esptool's stubs do not know the opcode
            self.reply(op.SECTOR_MD5, at, INVALID_CMD)
            return
        offset, count = struct.unpack("<II", req.payload)
        if offset % SECTOR or not 0 < count <= MAX_SECTORS:
            self.reply(op.SECTOR_MD5, at, BAD_LEN)
            return
        try:
            flash = self.vc.flash.read(offset, count * SECTOR)
        except FlashRangeError:
            self.reply(op.SECTOR_MD5, at, MD5_READ_FAIL)
            return
        digests = b"".join(hashlib.md5(flash[i:i + SECTOR]).digest() for i in range(0, len(flash), SECTOR))
        self.reply(op.SECTOR_MD5, self.vc.work(at, len(flash) / MD5_RATE), data=digests)

    def do_erase_flash(self, req: Request, at: float) -> None:
        self.reply(op.ERASE_FLASH, self.vc.work(at, self.vc.flash.erase_all()))

    def do_erase_region(self, req: Request, at: float) -> None:
        addr, size = struct.unpack("<II", req.payload)
        if addr % SECTOR:
            self.reply(op.ERASE_REGION, at, ERASE_BAD_ADDR)
            return
        if size % SECTOR:
            self.reply(op.ERASE_REGION, at, ERASE_BAD_LEN)
            return
        try:
            cost = self.vc.flash.erase_range(addr, size, self._blank_read_rate)  # as flash.c's erase_start
        except FlashRangeError:
            self.reply(op.ERASE_REGION, at, SPI_FAIL)
            return
        self.reply(op.ERASE_REGION, self.vc.work(at, cost))

    def do_read_flash(self, req: Request, at: float) -> None:
        addr, length, packet, in_flight = struct.unpack("<IIII", req.payload)
        if not 0 < packet <= MAX_PACKET or addr + length > self.vc.flash.size:
            self.reply(op.READ_FLASH, at, BAD_LEN if packet > MAX_PACKET or not packet else SPI_FAIL)
            return
        end = self.reply(op.READ_FLASH, at)
        model = self.vc.model
        window = min(max(in_flight, 1), model.read_window) if model.version == 2 else model.read_window
        self.read = ReadTransfer(addr, length, packet, window)
        self._send_packets(end)

    def _send_packets(self, at: float) -> None:
        """Send while fewer than ``window`` packets are unacknowledged; the MD5 once all are acked."""
        r = self.read
        assert r is not None
        if r.sent >= r.length and r.acked >= r.sent:
            self.read = None
            self.vc.send_frame(r.md5.digest(), at)
            return
        while r.sent < r.length and -(-(r.sent - r.acked) // r.packet) < r.window:
            n = min(r.packet, r.length - r.sent)
            data = self.vc.flash.read(r.addr + r.sent, n)
            r.md5.update(data)
            r.sent += n
            self.vc.send_frame(data, at)

    def raw_frame(self, frame: bytes, t: float) -> bool:
        """During READ_FLASH the host's frames are acks: u32 bytes received so far."""
        r = self.read
        if r is None:
            return False
        if len(frame) != 4:
            self.read = None  # the host gave up: back to commands
            return False
        (acked,) = struct.unpack("<I", frame)
        r.acked = max(r.acked, min(acked, r.sent))
        self._send_packets(t)
        return True

    # --- our stub's protocol extension -------------------------------------------------------------
    def do_get_version(self, req: Request, at: float) -> None:
        model = self.vc.model
        if self.vc.loader != "esptk-stub" or model.version is None:
            self.reply(req.op, at, INVALID_CMD)
            return
        chip_id = _chip_id(self.vc.chip.name)
        if model.version >= 2:
            extra = caps.SECTOR_MD5 if hasattr(self, "do_sector_md5") else 0
            if type(self.vc.chip).flash_encrypt is not SimChip.flash_encrypt:  # as our ESP32 stub: 0x400
                extra |= caps.ENCRYPTED_WRITE
            words = [2, chip_id, BASE_CAPS | caps.STREAMING | caps.READ_WINDOW | extra, MAX_BLOCK,
                     model.max_in_flight, model.read_window]
        else:
            words = [1, chip_id, BASE_CAPS | caps.IMMEDIATE_ERRORS, MAX_BLOCK]
        self.reply(req.op, at, data=struct.pack(f"<{len(words)}I", *words))

    def do_run_user_code(self, req: Request, at: float) -> None:
        self.vc.run_app()  # no reply: the app in flash takes over


def _chip_id(name: str) -> int:
    """The id our stub reports: the chip's number read as hex ("esp8266" → 0x8266), else 0."""
    try:
        return int(name.removeprefix("esp"), 16)
    except ValueError:
        return 0
