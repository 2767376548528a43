"""esptk's stage-1 loader (``stubs/src/stage1.c``), once MEM_END started it.

It greets with ``S1HI`` and answers, in the ROM's packet format with 2 status bytes ([0, 0] OK,
[1, ROM error code] failure) and value 0, only CHANGE_BAUDRATE (divider × old / new, as our stub),
MEM_BEGIN, MEM_DATA (checksum checked) and MEM_END (jump to the entry). SYNC draws no answer; any
other opcode [1, 0x05]. A load over stage 1's own code or data is refused ([1, 0x0F]); its frame
buffer and stack (not uploaded, so not known here) are not checked by this model.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from esptk.protocol import op

from .rom import BAD_CHECKSUM, BAD_PARAM, BAD_RAM_ADDR, BAD_RAM_SIZE, MALFORMED
from .writes import checksum, parse_data

if TYPE_CHECKING:
    from .engine import Request, VirtualChip

GREETING = b"S1HI"
#: after its CHANGE_BAUDRATE reply has left: TX drain (200 µs) and 1 ms settling (stubs/src/stage1.c)
BAUD_SWITCH = 0.0012


class Stage1Loader:
    def __init__(self, vc: VirtualChip, own: list[tuple[int, int]]) -> None:
        self.vc = vc
        self.own = own  #: [start, end) of stage 1's loaded segments
        self.start = self.next = self.remaining = self.seq = 0

    def reply(self, opcode: int, at: float, code: int = 0) -> float:
        return self.vc.reply(opcode, at, b"", bytes([1 if code else 0, code]), 0)

    def malformed(self, opcode: int, at: float) -> None:
        if opcode != op.SYNC:
            self.reply(opcode, at, MALFORMED)

    def handle(self, req: Request, at: float) -> None:
        o, p = req.op, req.payload
        if o == op.SYNC:
            return
        if o == op.CHANGE_BAUDRATE and len(p) == 8:
            new, old = struct.unpack("<II", p)
            if not new or not old:
                self.reply(o, at, BAD_PARAM)
                return
            self.vc.change_baud(new, self.reply(o, at) + BAUD_SWITCH)
        elif o == op.MEM_BEGIN and len(p) == 16:
            self.reply(o, at, self._begin(p))
        elif o == op.MEM_DATA:
            self.reply(o, at, self._data(p, req.checksum))
        elif o == op.MEM_END and len(p) == 8:
            if self.remaining:
                self.reply(o, at, BAD_RAM_SIZE)
                return
            no_entry, entry = struct.unpack("<II", p)
            end = self.reply(o, at)
            if no_entry == 0:
                self.vc.start_program(entry, end)
        else:
            self.reply(o, at, MALFORMED)

    def _begin(self, p: bytes) -> int:
        size, _blocks, _block_size, addr = struct.unpack("<IIII", p)
        if addr % 4 or any(size and addr < hi and lo < addr + size for lo, hi in self.own):
            return BAD_RAM_ADDR
        if not self.vc.mem.is_ram(addr, max(size, 1)):
            return BAD_RAM_ADDR  # on the chip: an exception when it stores there
        self.next, self.remaining, self.seq = addr, size, 0
        self.vc.mem_begin(addr)
        self.start = addr
        return 0

    def _data(self, p: bytes, chk: int) -> int:
        parsed = parse_data(p)
        if parsed is None or parsed[0] != len(parsed[2]):
            return MALFORMED
        _length, seq, data = parsed
        if checksum(data) != chk & 0xFF:
            return BAD_CHECKSUM
        if seq != self.seq:
            return BAD_PARAM
        if len(data) % 4 or len(data) > self.remaining:
            return BAD_RAM_SIZE
        self.vc.mem.write_bytes(self.next, data)
        self.vc.loaded(self.start, data)
        self.next += len(data)
        self.remaining -= len(data)
        self.seq += 1
        return 0
