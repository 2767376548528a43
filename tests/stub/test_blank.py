"""Erased flash is not erased again, and 0xFF is not programmed: the compiled stub under QEMU.

A factory-fresh chip, or one after erase-flash, reads all 0xFF. The stub reads a sector or block
before it erases it and skips the erase when it is blank; 64-byte pieces of data that are all 0xFF
are not programmed (erased flash holds them already). The test HAL logs every erase ('E', end
address) and every program ('P') the fake NOR completes; the content is checked by MD5 each time.
That the blank check keeps the RX FIFO drained at line rate is shown in test_streaming.py.
"""

from __future__ import annotations

import hashlib
import random

from esptk.protocol import op
from esptk.protocol.packets import checksum, data_payload

from .e2e import u32s
from .timed import BLOCK, Stub, flash_timing, write_blocks

SECTOR = 0x1000


def write(stub: Stub, offset: int, data: bytes) -> None:
    ld = stub.ld
    blocks = [data[i:i + BLOCK] for i in range(0, len(data), BLOCK)]
    ld.command(op.FLASH_BEGIN, u32s(len(data), len(blocks), BLOCK, offset))
    for i, b in enumerate(blocks):
        assert ld.command(op.FLASH_DATA, data_payload(b, i), checksum(b), check=False).status[0] == 0
    assert ld.command(op.FLASH_END, u32s(1), check=False).status[0] == 0


def kinds(stub: Stub, kind: str) -> list[int]:
    return [v for k, v, _t in stub.log() if k == kind]


def md5_of(stub: Stub, offset: int, size: int) -> bytes:
    return stub.ld.md5(offset, size, False)


def test_a_blank_region_is_written_without_any_erase(stub: Stub) -> None:
    flash_timing(stub, program=2_000, erase=80_000, line=0)
    data = random.Random(11).randbytes(0x12000)  # one 64 KiB block and two sectors past it
    write(stub, 0x20000, data)
    assert kinds(stub, "E") == []
    assert md5_of(stub, 0x20000, len(data)) == hashlib.md5(data).digest()


def test_flash_that_holds_data_is_erased_before_it_is_rewritten(stub: Stub) -> None:
    flash_timing(stub, program=2_000, erase=80_000, line=0)
    rnd = random.Random(12)
    write(stub, 0x20000, rnd.randbytes(0x12000))
    stub.set("sim_log_len", 0)
    new = rnd.randbytes(0x12000)
    write(stub, 0x20000, new)
    assert kinds(stub, "E") == [0x30000, 0x31000, 0x32000]  # the block, then the two sectors
    assert md5_of(stub, 0x20000, len(new)) == hashlib.md5(new).digest()


def test_one_used_word_in_a_block_makes_the_whole_block_erase(stub: Stub) -> None:
    flash_timing(stub, program=2_000, erase=80_000, line=0)
    write(stub, 0x5F000 + 0xFFC, b"\x00\x00\x00\x00")  # the last word of the block's last sector
    stub.set("sim_log_len", 0)
    data = random.Random(13).randbytes(0x10000)
    write(stub, 0x50000, data)
    assert kinds(stub, "E") == [0x60000]
    assert md5_of(stub, 0x50000, len(data)) == hashlib.md5(data).digest()


def test_ff_pieces_are_not_programmed_and_still_land_over_old_data(stub: Stub) -> None:
    flash_timing(stub, program=2_000, erase=80_000, line=0)
    rnd = random.Random(14)
    # 64-byte pieces: data, 0xFF, data, a piece with one 0xFE byte among 0xFF, then 0xFF to the end
    piece = b"\xff" * 64
    odd = bytearray(piece)
    odd[17] = 0xFE
    data = rnd.randbytes(64) + piece + rnd.randbytes(64) + bytes(odd) + piece * 60
    write(stub, 0x70000, data)
    assert len(kinds(stub, "P")) == 3  # only the pieces that are not all 0xFF
    assert md5_of(stub, 0x70000, len(data)) == hashlib.md5(data).digest()
    # Over old data the sector is erased first, so the skipped 0xFF pieces read 0xFF again.
    old = rnd.randbytes(len(data))
    write(stub, 0x80000, old)
    stub.set("sim_log_len", 0)
    write(stub, 0x80000, data)
    assert kinds(stub, "E") == [0x81000]
    assert len(kinds(stub, "P")) == 3
    assert md5_of(stub, 0x80000, len(data)) == hashlib.md5(data).digest()


def test_erase_region_skips_blank_sectors_only(stub: Stub) -> None:
    flash_timing(stub, program=2_000, erase=80_000, line=0)
    write(stub, 0x93000, b"\x12\x34\x56\x78" * 16)  # sector 3 of four holds data
    stub.set("sim_log_len", 0)
    assert stub.ld.command(op.ERASE_REGION, u32s(0x90000, 4 * SECTOR), check=False).status[0] == 0
    assert kinds(stub, "E") == [0x94000]
    assert md5_of(stub, 0x90000, 4 * SECTOR) == hashlib.md5(b"\xff" * 4 * SECTOR).digest()


def test_the_region_is_erased_while_its_first_block_is_still_arriving(stub: Stub) -> None:
    """The idle loop erases ahead: over flash that holds data, at 921600 baud, every sector of a
    32 KiB region is erased before the first 16 KiB block has been received (what the virtual
    chip's model of this stub assumes: ``erases_when_idle``)."""
    rnd = random.Random(15)
    flash_timing(stub, program=2_000, erase=80_000, line=0)
    write(stub, 0xA0000, rnd.randbytes(0x8000))
    flash_timing(stub, program=16_000, erase=800_000)  # a 10 ms sector erase at 80 MHz
    blocks = [rnd.randbytes(BLOCK), rnd.randbytes(BLOCK)]
    spans, _first_ack, end = write_blocks(stub, 0xA0000, blocks)
    assert end == 0
    log = stub.log()
    assert [v for k, v, _t in log if k == "E"] == [0xA0000 + SECTOR * (i + 1) for i in range(8)]
    started = [(v, t) for k, v, t in log if k == "S"]  # the HAL logs an erase when it starts
    assert [v for v, _t in started] == [0xA0000 + SECTOR * i for i in range(8)]
    block0_in = min(t for k, v, t in log if k == "R" and v >= spans[0][1])
    # one after the other (the NOR takes one command at a time), the last one done before block 0 is in
    assert all(b - a >= 800_000 for (_x, a), (_y, b) in zip(started, started[1:]))
    assert started[-1][1] + 800_000 < block0_in, (started, block0_in)
    stub.set("sim_cycles_per_byte", 0)
    assert md5_of(stub, 0xA0000, 0x8000) == hashlib.md5(b"".join(blocks)).digest()

