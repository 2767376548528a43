"""The instruction-counted stub under QEMU: the handle the streaming and blank-flash tests share.

The test HAL (stubs/test/sim_hal.c) models a serial line and a NOR flash with busy times, and logs
(kind, value, ccount) events: 'R' bytes received so far, 'P' end address of a completed program,
'E' end address of a completed erase, 'T' frames sent so far.
"""

from __future__ import annotations

from pathlib import Path

from esptk.loader import Loader
from esptk.protocol import op, slip
from esptk.protocol.packets import checksum, data_payload, request

from .e2e import symbol, u32s

ICOUNT = 5
#: 921600 baud (10 bits a byte) at 80 MHz
CYCLES_PER_BYTE_921600 = 868
FIFO = 128
LOG = 0x65000000
BLOCK = 0x4000


class Stub:
    def __init__(self, ld: Loader, elf: Path) -> None:
        self.ld = ld
        self.elf = elf

    def set(self, name: str, value: int) -> None:
        self.ld.write_reg(symbol(self.elf, name), value)

    def get(self, name: str) -> int:
        return self.ld.read_reg(symbol(self.elf, name))

    def log(self) -> list[tuple[str, int, int]]:
        n = self.get("sim_log_len")
        words = [self.ld.read_reg(LOG + 4 * i) for i in range(3 * n)]
        return [(chr(words[i]), words[i + 1], words[i + 2]) for i in range(0, len(words), 3)]

    def mark(self) -> tuple[int, int]:
        """(frames sent before the reply to this call, bytes received up to the end of this call)."""
        frames = self.get("sim_tx_frames")
        return frames + 1, self.get("sim_rx_total")

    def send(self, opcode: int, payload: bytes, chk: int = 0) -> int:
        """Send one request; return how many bytes it took on the wire."""
        wire = slip.encode(request(opcode, payload, chk))
        self.ld.transport.write(wire)
        return len(wire)

    def status(self, opcode: int) -> int:
        return self.ld.wait_reply(opcode, check=False).status[0]


def flash_timing(stub: Stub, program: int, erase: int, line: int = CYCLES_PER_BYTE_921600) -> None:
    stub.set("sim_program_cycles", program)
    stub.set("sim_erase_cycles", erase)
    stub.set("sim_cycles_per_byte", line)
    stub.set("sim_log_len", 0)


def write_blocks(stub: Stub, offset: int, blocks: list[bytes]) -> tuple[list[tuple[int, int]], int, int]:
    """FLASH_BEGIN + FLASH_DATA per block, stop-and-wait (max_in_flight 1). Returns each block's
    frame (first, last byte) in the stub's received-byte count, the frame number of the first
    block's ack, and FLASH_END's status."""
    sent_frames, rx = stub.mark()
    total = sum(len(b) for b in blocks)
    rx += stub.send(op.FLASH_BEGIN, u32s(total, len(blocks), BLOCK, offset))
    assert stub.status(op.FLASH_BEGIN) == 0
    spans = []
    for seq, block in enumerate(blocks):
        n = stub.send(op.FLASH_DATA, data_payload(block, seq), checksum(block))
        spans.append((rx + 1, rx + n))
        rx += n
        assert stub.status(op.FLASH_DATA) == 0
    stub.send(op.FLASH_END, u32s(1))
    return spans, sent_frames + 2, stub.status(op.FLASH_END)


def events(log: list[tuple[str, int, int]], kind: str, value: int) -> list[int]:
    return [t for k, v, t in log if k == kind and v == value]
