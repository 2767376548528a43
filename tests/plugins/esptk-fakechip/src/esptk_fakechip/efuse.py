"""The fake chip's eFuses: one 2-word block, a one-register program sequence, and its sim model.

Shows the whole eFuse capability through esptk's public surface only: a layout, a program
sequence (write the words, write 1 to CMD, wait for CMD to read 0) and the controller the
virtual chip runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from esptk.chip import RegisterAccess
from esptk.efuse import Block, EfuseError, EfuseSupport, Field, Layout
from esptk.simchip import SimDevice

READ, WRITE, CMD = 0x3FF00100, 0x3FF00110, 0x3FF00120

LAYOUT = Layout(
    blocks=(Block(0, "BLOCK0", READ, WRITE, 2),),
    fields=(
        Field("WR_DIS", 0, 0, 0, 4, "uint", "config", "Write protection bits", wr_dis=0),
        Field("BOARD_ID", 0, 0, 8, 8, "uint", "identity", "Board id", wr_dis=1, aliases=("ID",)),
        Field("LOCKED", 0, 0, 16, 1, "bool", "security", "Debug port locked", wr_dis=2),
        Field("SERIAL", 0, 1, 0, 24, "bytes", "identity", "Serial number", wr_dis=3),
    ),
)


class FakeEfuse(EfuseSupport):
    layout = LAYOUT
    postponed = ("WR_DIS",)

    def program(self, regs: RegisterAccess, block: Block, words: Sequence[int]) -> None:
        for i, w in enumerate(words):
            regs.write_reg(block.write_addr + 4 * i, w)
        regs.write_reg(CMD, 1)
        for _ in range(10):
            if regs.read_reg(CMD) == 0:
                return
        raise EfuseError("the fake eFuse controller did not finish")


class FakeEfuseController(SimDevice):
    """Read words at READ, write words at WRITE, CMD=1 burns them (except WR_DIS-protected fields)."""

    windows = ((READ, CMD + 4),)

    def __init__(self) -> None:
        self.fuses = [0, 0]
        self.wdata = [0, 0]

    def read(self, addr: int) -> int:
        if READ <= addr < READ + 8:
            return self.fuses[(addr - READ) // 4]
        if WRITE <= addr < WRITE + 8:
            return self.wdata[(addr - WRITE) // 4]
        return 0  # CMD: done at once

    def write(self, addr: int, value: int) -> None:
        if WRITE <= addr < WRITE + 8:
            self.wdata[(addr - WRITE) // 4] = value
        elif addr == CMD and value & 1:
            wr_dis = self.fuses[0] & 0xF
            masks = {0: (0xF, 0), 1: (0xFF00, 0), 2: (1 << 16, 0), 3: (0, 0xFFFFFF)}
            words = list(self.wdata)
            for bit, (m0, m1) in masks.items():
                if wr_dis >> bit & 1:
                    words = [words[0] & ~m0, words[1] & ~m1]
            self.fuses = [f | w for f, w in zip(self.fuses, words)]
            self.wdata = [0, 0]
