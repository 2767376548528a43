"""The ESP32 eFuse controller of the virtual chip (a SimDevice; SECURITY.md 1.2-1.6, 4.4).

The fuses themselves are raw bits (BLOCK1-3 in 3/4 mode hold the encoded words, check bytes
included). Software sees them through the read registers, which a READ command (or a reset)
reloads: read-protected data reads zero, 3/4 groups are decoded and bad check bytes set
DEC_STATUS. A PROGRAM command ORs the write registers into the fuses, except bits whose WR_DIS
is set, and only with the timing registers set for the 40 MHz APB clock; the write registers are
cleared after each command.

State lives in ``efuse_file`` in espefuse's ``--virt --path-efuse-file`` format (288 bytes: the
register window 0x000-0x11F as one big-endian number), so one file serves both tools. Because that
format keeps only what software can read, esptk appends the raw fuses after the 288 bytes (with a
copy of the window they belong to); espefuse reads the first 288 bytes and drops the rest when it
saves, and esptk then falls back to the window (a read-protected key is then lost, as it is for
espefuse).
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from esptk.simchip import SimDevice

from .efuse import CONF_PROGRAM, CONF_READ, TIMING, check_bytes, crc8, decode_words
from .efuse_layout import BASE, BLOCKS, LAYOUT

FILE_BYTES = 0x120
TAIL_MAGIC = b"ESPTK-FUSES\x00"
WORDS = (7, 8, 8, 8)
CLK, CONF, CMD, DAC, DEC, DATE = 0xF8, 0xFC, 0x104, 0x118, 0x11C, 0x1FC
RESET_VALUES = {CLK: 0x4052, CONF: 0x10000, DAC: 40, DATE: 0x16042600}
#: RD_DIS bit 3 hides these BLOCK0 bits: (word, mask)
RD_DIS3 = ((3, 1 << 14), (5, 0xF << 28), (6, 0x403))


CK8M = 128  #: factory CLK8M_FREQ of the modelled chip
ADC_VREF = 0x0A  #: factory ADC_VREF (+70 mV)


def factory_block0(mac: bytes, rev3: bool = True) -> list[int]:
    """BLOCK0 of a dual-core ESP32-D0WD-V3 rev v3.0 (40 MHz crystal) with factory MAC ``mac``."""
    w1 = int.from_bytes(mac[2:6], "big")
    w2 = (crc8(mac) << 16) | (mac[0] << 8) | mac[1]
    w3 = (1 << 9) | (1 << 13) | ((1 << 15) if rev3 else 0)  # package D0WD, CPU rated, rev bit 0
    w4 = (ADC_VREF << 8) | CK8M
    w5 = (1 << 20) if rev3 else 0  # rev bit 1
    return [0, w1, w2, w3, w4, w5, 0]


def _wr_dis_masks() -> dict[int, list[int]]:
    """WR_DIS bit -> BLOCK0 word masks it protects."""
    masks: dict[int, list[int]] = {}
    for f in LAYOUT.fields:
        if f.block or f.word is None or f.wr_dis is None:
            continue
        m = masks.setdefault(f.wr_dis, [0] * 7)
        bits = ((1 << f.bits) - 1) << f.start
        for w in range(7):
            m[w] |= (bits >> (32 * w)) & 0xFFFFFFFF
    return masks


WR_DIS_MASKS = _wr_dis_masks()


class EfuseController(SimDevice):
    windows = ((BASE, BASE + 0x200),)

    def __init__(self, block0: list[int], path: str | None = None) -> None:
        self.path = path
        self.log: list[str] = []
        self.fuses = [list(block0)] + [[0] * 8 for _ in range(3)]
        self.regs: dict[int, int] = {}
        if path and os.path.exists(path):
            self._load(path)
        self.reset()

    # --- bus ----------------------------------------------------------------------------------
    def read(self, addr: int) -> int:
        off = addr - BASE
        if off == CMD:
            return 0  # commands complete at once
        if off in RESET_VALUES and off not in self.regs:
            return RESET_VALUES[off]
        return self.regs.get(off, 0)

    def write(self, addr: int, value: int) -> None:
        off = addr - BASE
        if off < 0x1C or 0x38 <= off < 0x98 or off in (DEC, DATE, 0x100):
            return  # read-only registers
        self.regs[off] = value
        if off == CMD:
            conf = self.read(BASE + CONF) & 0xFFFF
            if value & 2 and conf == CONF_PROGRAM:
                self._program()
            elif value & 1 and conf == CONF_READ:
                self._reload()
            self.regs[CMD] = 0
            self.save()

    def reset(self) -> None:
        self.regs = {k: v for k, v in self.regs.items() if k not in (CONF, CMD, CLK, DAC)}
        self._reload()

    def close(self) -> None:
        self.save()

    # --- fuses --------------------------------------------------------------------------------
    def _bit(self, word: int, bit: int) -> bool:
        return bool(self.fuses[0][word] >> bit & 1)

    def coding_34(self) -> bool:
        return self.fuses[0][6] & 3 == 1

    def _timing_ok(self) -> bool:
        sel0, sel1, dac = TIMING[40]
        clk = self.read(BASE + CLK)
        return (clk & 0xFF, (clk >> 8) & 0xFF, self.read(BASE + DAC) & 0xFF) == (sel0, sel1, dac)

    def _program(self) -> None:
        if not self._timing_ok():
            self.log.append("eFuse program command ignored: timing registers not set for the 40 MHz APB clock")
            self._clear_wdata()
            return
        wr_dis = self.fuses[0][0] & 0xFFFF
        for b in BLOCKS:
            words = [self.regs.get(b.write_addr - BASE + 4 * i, 0) for i in range(WORDS[b.index])]
            if b.index == 0:
                for bit, masks in WR_DIS_MASKS.items():
                    if wr_dis >> bit & 1:
                        words = [w & ~m for w, m in zip(words, masks)]
            elif b.wr_dis is not None and wr_dis >> b.wr_dis & 1:
                continue
            self.fuses[b.index] = [f | (w & 0xFFFFFFFF) for f, w in zip(self.fuses[b.index], words)]
        self._clear_wdata()

    def _clear_wdata(self) -> None:
        for b in BLOCKS:
            for i in range(WORDS[b.index]):
                self.regs.pop(b.write_addr - BASE + 4 * i, None)

    def block_data(self, index: int) -> bytes:
        """What the block holds for the hardware (decoded, ignoring read protection)."""
        raw = b"".join(w.to_bytes(4, "little") for w in self.fuses[index])
        if index and self.coding_34():
            return decode_words(self.fuses[index])[0]
        return raw

    def _reload(self) -> None:
        rd_dis = (self.fuses[0][0] >> 16) & 0xF
        dec = 0
        block0 = list(self.fuses[0])
        if rd_dis & 8:
            for w, m in RD_DIS3:
                block0[w] &= ~m
        for i, w in enumerate(block0):
            self.regs[BLOCKS[0].read_addr - BASE + 4 * i] = w
        for b in BLOCKS[1:]:
            data = self.block_data(b.index)
            if self.coding_34() and not decode_words(self.fuses[b.index])[1]:
                dec |= 0xF << (4 * (b.index - 1))
            if b.rd_dis is not None and rd_dis >> b.rd_dis & 1:
                data = bytes(len(data))
            data += bytes(32 - len(data))
            for i in range(8):
                self.regs[b.read_addr - BASE + 4 * i] = int.from_bytes(data[4 * i:4 * i + 4], "little")
        self.regs[DEC] = dec
        self._clear_wdata()

    # --- flash encryption (what the engine would use) ------------------------------------------
    def flash_key(self) -> bytes | None:
        """The AES key the flash-encryption engine uses (BLOCK1 read reversed), None if none burnt."""
        data = self.block_data(1)
        return data[::-1] if any(data) else None

    def flash_crypt_conf(self) -> int:
        return self.fuses[0][5] >> 28

    def flash_crypt_cnt(self) -> int:
        return (self.fuses[0][0] >> 20) & 0x7F

    # --- the file -----------------------------------------------------------------------------
    def window(self) -> bytes:
        le = b"".join(self.read(BASE + off).to_bytes(4, "little") for off in range(0, FILE_BYTES, 4))
        return le[::-1]

    def save(self) -> None:
        if not self.path:
            return
        window = self.window()
        tail = TAIL_MAGIC + hashlib.sha256(window).digest() + b"".join(
            w.to_bytes(4, "little") for block in self.fuses for w in block)
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".efuse-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(window + tail)
        os.replace(tmp, self.path)

    def _load(self, path: str) -> None:
        with open(path, "rb") as fh:
            raw = fh.read()
        if len(raw) < FILE_BYTES:
            self.fuses = [[0] * 7] + [[0] * 8 for _ in range(3)]  # espefuse starts such a file blank
            return
        window, tail = raw[:FILE_BYTES], raw[FILE_BYTES:]
        le = window[::-1]
        for off in range(0, FILE_BYTES, 4):
            self.regs[off] = int.from_bytes(le[off:off + 4], "little")
        start = len(TAIL_MAGIC) + 32
        if tail.startswith(TAIL_MAGIC) and tail[len(TAIL_MAGIC):start] == hashlib.sha256(window).digest() and len(
                tail) >= start + 31 * 4:
            words = [int.from_bytes(tail[start + 4 * i:start + 4 * i + 4], "little") for i in range(31)]
            self.fuses = [words[:7], words[7:15], words[15:23], words[23:31]]
            return
        self.fuses = [[self.regs.get(BLOCKS[0].read_addr - BASE + 4 * i, 0) for i in range(7)]]
        for b in BLOCKS[1:]:
            words = [self.regs.get(b.read_addr - BASE + 4 * i, 0) for i in range(8)]
            if self.fuses[0][6] & 3 == 1:  # re-encode the decoded 24 bytes
                data = b"".join(w.to_bytes(4, "little") for w in words[:6])
                coded = b"".join(data[g:g + 6] + check_bytes(data[g:g + 6]) for g in range(0, 24, 6))
                words = [int.from_bytes(coded[i:i + 4], "little") for i in range(0, 32, 4)]
            self.fuses.append(words)
