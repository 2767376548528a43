"""The mask-ROM serial loader (PROTOCOL.md sections 1-3 and 6; ROM8266/ROM32 behaviour)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import TYPE_CHECKING

from esptk.protocol import op

from .nor import FlashRangeError
from .writes import Session, checksum, parse_data

if TYPE_CHECKING:
    from .engine import Request, VirtualChip

SYNC_PAYLOAD = b"\x07\x07\x12\x20" + b"\x55" * 32
SYNC_REPLIES = 8
MD5_RATE = 4_000_000.0  #: bytes per second the chip hashes (timing model)

# ROM error codes (second status byte, PROTOCOL.md 1.7)
BAD_PARAM, MALFORMED, FAILED, BAD_CHECKSUM, INFLATE_ERR = 0x01, 0x05, 0x06, 0x07, 0x0B
BAD_RAM_SIZE, BAD_RAM_ADDR = 0x0E, 0x0F

#: exact payload length per command (ROM); WRITE_REG: a multiple of 16
LENGTHS = {
    op.FLASH_BEGIN: 16, op.FLASH_END: 4, op.MEM_BEGIN: 16, op.MEM_END: 8, op.READ_REG: 4,
    op.SPI_SET_PARAMS: 24, op.SPI_ATTACH: 8, op.CHANGE_BAUDRATE: 8, op.FLASH_DEFL_BEGIN: 16,
    op.FLASH_DEFL_END: 4, op.SPI_FLASH_MD5: 16, op.SYNC: 36,
}
FLASH_OPS = {op.FLASH_BEGIN, op.FLASH_DEFL_BEGIN, op.READ_FLASH_SLOW, op.SPI_FLASH_MD5}


class RomLoader:
    def __init__(self, vc: VirtualChip) -> None:
        self.vc = vc
        self.session: Session | None = None
        self.status_len = vc.chip.rom_status_bytes

    # --- replies ------------------------------------------------------------------------------
    def ok(self, opcode: int, at: float, data: bytes = b"") -> float:
        return self.vc.reply(opcode, at, data, bytes(self.status_len), self.vc.last_value)

    def fail(self, opcode: int, at: float, code: int) -> float:
        status = bytes([1, code]) + bytes(self.status_len - 2)
        return self.vc.reply(opcode, at, b"", status, self.vc.last_value)

    def malformed(self, opcode: int, at: float) -> None:
        self.fail(opcode, at, MALFORMED)

    # --- dispatch -----------------------------------------------------------------------------
    def handle(self, req: Request, at: float) -> None:
        o, p = req.op, req.payload
        if o not in self.vc.chip.rom_commands:
            self.fail(o, at, MALFORMED)
            return
        want = LENGTHS.get(o)
        if o == op.SPI_ATTACH and want is not None and len(p) == 4:
            want = 4  # tolerate the stub form
        if o == op.READ_FLASH_SLOW:
            want = 8 if len(p) == 8 else 16  # esptool sends 8 bytes, espflash 16
        if (want is not None and len(p) != want) or (o == op.WRITE_REG and (not p or len(p) % 16)):
            if o != op.SYNC:  # a damaged SYNC simply draws no answer
                self.fail(o, at, MALFORMED)
            return
        if o in FLASH_OPS and self.vc.chip.rom_needs_attach and not self.vc.attached:
            self.fail(o, at, FAILED)
            return
        handler = getattr(self, "do_" + op.name(o).lower(), None)
        if handler is None:
            self.fail(o, at, MALFORMED)
            return
        handler(req, at)

    # --- commands -----------------------------------------------------------------------------
    def do_sync(self, req: Request, at: float) -> None:
        if req.payload != SYNC_PAYLOAD:
            return
        for _ in range(SYNC_REPLIES):
            self.vc.reply(op.SYNC, at, b"", bytes(self.status_len), self.vc.chip.sync_value)

    def do_read_reg(self, req: Request, at: float) -> None:
        (addr,) = struct.unpack("<I", req.payload)
        self.vc.last_value = self.vc.mem.read_word(addr)  # the ROM checks no address (PROTOCOL.md 14)
        self.ok(op.READ_REG, at)

    def do_write_reg(self, req: Request, at: float) -> None:
        delay = 0.0
        for i in range(0, len(req.payload), 16):  # several records: writes in order, delays add up
            addr, value, mask, delay_us = struct.unpack_from("<IIII", req.payload, i)
            delay += delay_us / 1e6
            self.vc.mem.write_word(addr, value, mask)
        self.ok(op.WRITE_REG, self.vc.work(at, delay))

    def do_mem_begin(self, req: Request, at: float) -> None:
        size, blocks, block_size, addr = struct.unpack("<IIII", req.payload)
        if not self.vc.mem.is_ram(addr, max(size, 1)):
            self.fail(op.MEM_BEGIN, at, BAD_RAM_ADDR if not self.vc.mem.is_ram(addr, 1) else BAD_RAM_SIZE)
            return
        self.session = Session("mem", addr, size, blocks, block_size)
        self.vc.mem_begin(addr)
        self.ok(op.MEM_BEGIN, at)

    def _data_block(self, req: Request, at: float, kind: str) -> tuple[Session, bytes] | None:
        s, parsed = self.session, parse_data(req.payload)
        if s is None or s.kind != kind:
            self.fail(req.op, at, FAILED)
            return None
        if parsed is None or parsed[0] != len(parsed[2]):
            self.fail(req.op, at, MALFORMED)
            return None
        _length, seq, data = parsed
        if checksum(data) != req.checksum & 0xFF:
            self.fail(req.op, at, BAD_CHECKSUM)
            return None
        if seq != s.seq:
            self.fail(req.op, at, BAD_PARAM)
            return None
        s.seq += 1
        return s, data

    def do_mem_data(self, req: Request, at: float) -> None:
        got = self._data_block(req, at, "mem")
        if got is None:
            return
        s, data = got
        if s.cursor + len(data) > s.offset + s.size or not self.vc.mem.is_ram(s.cursor, len(data)):
            self.fail(op.MEM_DATA, at, BAD_RAM_SIZE)
            return
        self.vc.mem.write_bytes(s.cursor, data)
        self.vc.loaded(s.offset, data)
        s.cursor += len(data)
        self.ok(op.MEM_DATA, at)

    def do_mem_end(self, req: Request, at: float) -> None:
        no_entry, entry = struct.unpack("<II", req.payload)
        self.session = None
        if no_entry == 0 and not self.vc.mem.is_ram(entry, 4):
            self.fail(op.MEM_END, at, BAD_RAM_ADDR)
            return
        end = self.ok(op.MEM_END, at)
        if no_entry == 0:
            self.vc.start_program(entry, end)

    def do_flash_begin(self, req: Request, at: float, kind: str = "flash") -> None:
        erase_size, blocks, block_size, offset = struct.unpack("<IIII", req.payload)
        vc = self.vc
        if vc.chip.rom_begin_attaches:
            vc.attached = True
        start, length = vc.chip.rom_erase_range(offset, erase_size)
        limit = min(vc.flash.size, vc.flash_limit or vc.flash.size)
        if start + length > limit:
            self.fail(req.op, at, FAILED)
            return
        cost = vc.flash.erase_range(start, length) if length else 0.0
        self.session = Session(kind, offset, erase_size, blocks, block_size)
        self.ok(req.op, vc.work(at, cost))

    def do_flash_data(self, req: Request, at: float, kind: str = "flash") -> None:
        got = self._data_block(req, at, kind)
        if got is None:
            return
        s, data = got
        vc = self.vc
        cost = 0.0
        if kind == "defl":
            assert s.inflater is not None
            try:
                data = s.inflater.decompress(data)
            except zlib.error:
                self.fail(req.op, at, INFLATE_ERR)
                return
            cost += len(data) / vc.inflate_rate()
        limit = min(vc.flash.size, vc.flash_limit or vc.flash.size)
        if s.cursor + len(data) > limit:
            self.fail(req.op, at, FAILED)
            return
        try:
            cost += vc.flash.program(s.cursor, data)
        except FlashRangeError:
            self.fail(req.op, at, FAILED)
            return
        s.cursor += len(data)
        self.ok(req.op, vc.work(at, cost))

    def do_flash_end(self, req: Request, at: float) -> None:
        (flag,) = struct.unpack("<I", req.payload)
        self.session = None
        end = self.ok(req.op, at)
        if flag == 0:
            self.vc.reset("software", download=self.vc.strap_download(), at=end)
        else:
            self.vc.run_app()

    def do_flash_defl_begin(self, req: Request, at: float) -> None:
        self.do_flash_begin(req, at, "defl")

    def do_flash_defl_data(self, req: Request, at: float) -> None:
        self.do_flash_data(req, at, "defl")

    def do_flash_defl_end(self, req: Request, at: float) -> None:
        self.do_flash_end(req, at)

    def do_spi_attach(self, req: Request, at: float) -> None:
        self.vc.attached = True
        self.ok(op.SPI_ATTACH, at)

    def do_spi_set_params(self, req: Request, at: float) -> None:
        _id, total, _block, _sector, _page, _mask = struct.unpack("<6I", req.payload)
        self.vc.flash_limit = total
        self.ok(op.SPI_SET_PARAMS, at)

    def do_change_baudrate(self, req: Request, at: float) -> None:
        new, _old = struct.unpack("<II", req.payload)
        if not new:
            self.fail(op.CHANGE_BAUDRATE, at, BAD_PARAM)
            return
        end = self.ok(op.CHANGE_BAUDRATE, at)
        self.vc.change_baud(new, end)
        if self.vc.chip.rom_baud_change_noise:
            self.vc.send_raw(self.vc.chip.rom_baud_change_noise, end)

    def _flash_range_ok(self, addr: int, size: int) -> bool:
        limit = min(self.vc.flash.size, self.vc.flash_limit or self.vc.flash.size)
        return addr + size <= limit

    def do_spi_flash_md5(self, req: Request, at: float) -> None:
        addr, size, _z1, _z2 = struct.unpack("<IIII", req.payload)
        if not self._flash_range_ok(addr, size):
            self.fail(op.SPI_FLASH_MD5, at, FAILED)
            return
        digest = hashlib.md5(self.vc.flash.read(addr, size)).hexdigest().encode()
        self.ok(op.SPI_FLASH_MD5, self.vc.work(at, size / MD5_RATE), digest)

    def do_read_flash_slow(self, req: Request, at: float) -> None:
        addr, length = struct.unpack_from("<II", req.payload)
        if length > 64 or not self._flash_range_ok(addr, length):
            self.fail(op.READ_FLASH_SLOW, at, FAILED)
            return
        data = self.vc.flash.read(addr, min(64, self.vc.flash.size - addr))
        self.ok(op.READ_FLASH_SLOW, at, data.ljust(64, b"\xff"))
