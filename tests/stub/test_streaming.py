"""Streaming (stub protocol v2) proved on the compiled stub under QEMU with instruction-counted time.

The test HAL (stubs/test/sim_hal.c) models a serial line that delivers one byte per
``sim_cycles_per_byte`` CCOUNT cycles into a 128-byte RX FIFO while the host has bytes queued, and
a NOR flash whose started page programs and erases stay busy for a set number of cycles. QEMU runs
with ``-icount shift=5``: 1.28 CCOUNT cycles per instruction (a CPI of 1.28 at the modelled clock).
It logs (kind, value, ccount) events: 'R' bytes received so far, 'P' end address of a completed
program, 'T' frames sent so far.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib

import pytest

from esptk.errors import CommandTimeout
from esptk.protocol import op
from esptk.protocol.packets import checksum, data_payload

from .e2e import u32s
from .timed import BLOCK, CYCLES_PER_BYTE_921600, FIFO, Stub, events, flash_timing, write_blocks

SECTOR_MD5 = 0xE0
ST_FAILED_SPI_OP = 0xC4


def test_ack_and_next_block_arrive_while_the_block_is_programmed(stub: Stub) -> None:
    # Typical NOR timing at 80 MHz: a 64-byte program 0.2 ms, a sector erase 10 ms.
    flash_timing(stub, program=16_000, erase=800_000)
    rnd = random.Random(1)
    blocks = [rnd.randbytes(BLOCK) for _ in range(3)]
    offset = 0x30000
    spans, first_ack, end = write_blocks(stub, offset, blocks)
    assert end == 0
    log = stub.log()
    for k in range(len(blocks) - 1):
        [ack] = events(log, "T", first_ack + k)
        [done] = events(log, "P", offset + (k + 1) * BLOCK)
        first, last = spans[k + 1]
        receiving = [t for kind, v, t in log if kind == "R" and first <= v <= last]
        assert ack < done, f"block {k} acknowledged only after it was programmed"
        assert receiving and receiving[0] < done, f"block {k + 1} did not arrive while block {k} was programmed"
    assert stub.get("sim_fifo_overflows") == 0
    assert stub.get("sim_fifo_max") <= FIFO
    stub.set("sim_cycles_per_byte", 0)
    assert stub.ld.md5(offset, 3 * BLOCK, False) == hashlib.md5(b"".join(blocks)).digest()


def test_a_flash_that_stalls_loses_no_byte(stub: Stub) -> None:
    # Every 64-byte program stays busy 400,000 cycles (5 ms at 80 MHz, beyond a datasheet's 3 ms
    # worst case per page): the FIFO would fill 3.5 times over during one stall.
    flash_timing(stub, program=400_000, erase=800_000)
    rnd = random.Random(2)
    blocks = [rnd.randbytes(0x800), rnd.randbytes(0x1000), rnd.randbytes(0x300)]
    offset = 0x80000
    spans, first_ack, end = write_blocks(stub, offset, [*blocks])
    assert end == 0
    log = stub.log()
    [ack] = events(log, "T", first_ack)
    [done] = events(log, "P", offset + len(blocks[0]))
    received_next = [t for kind, v, t in log if kind == "R" and v == spans[1][1]]
    assert ack < done
    assert received_next and received_next[0] < done  # all of block 1 came in during block 0's stalls
    assert stub.get("sim_fifo_overflows") == 0
    assert stub.get("sim_fifo_max") <= FIFO
    stub.set("sim_cycles_per_byte", 0)
    data = b"".join(blocks)
    assert stub.ld.md5(offset, len(data), False) == hashlib.md5(data).digest()


def test_a_program_failure_is_reported_on_a_later_reply_until_the_next_begin(stub: Stub) -> None:
    flash_timing(stub, program=2_000, erase=20_000, line=0)
    offset = 0x100000
    stub.set("sim_fail_start", offset + BLOCK + 0x100)  # inside block 1
    stub.set("sim_fail_end", offset + BLOCK + 0x140)
    rnd = random.Random(3)
    blocks = [rnd.randbytes(BLOCK) for _ in range(3)]
    ld = stub.ld
    ld.command(op.FLASH_BEGIN, u32s(3 * BLOCK, 3, BLOCK, offset))
    statuses = [ld.command(op.FLASH_DATA, data_payload(b, i), checksum(b), check=False).status[0]
                for i, b in enumerate(blocks)]
    assert statuses == [0, 0, ST_FAILED_SPI_OP]  # block 1 was acknowledged before it failed
    assert ld.command(op.FLASH_END, u32s(1), check=False).status[0] == ST_FAILED_SPI_OP
    assert ld.command(op.SPI_FLASH_MD5, u32s(offset, 16, 0, 0), check=False).status[0] == ST_FAILED_SPI_OP
    # A new BEGIN clears it; the same transfer into flash that works succeeds.
    stub.set("sim_fail_start", 0)
    stub.set("sim_fail_end", 0)
    ld.command(op.FLASH_BEGIN, u32s(3 * BLOCK, 3, BLOCK, offset))
    for i, b in enumerate(blocks):
        ld.data_command(op.FLASH_DATA, b, i)
    ld.command(op.FLASH_END, u32s(1))
    assert ld.md5(offset, 3 * BLOCK, False) == hashlib.md5(b"".join(blocks)).digest()


def test_a_compressed_write_fails_late_too(stub: Stub) -> None:
    offset = 0x200000
    stub.set("sim_fail_start", offset + 0x9000)
    stub.set("sim_fail_end", offset + 0x9004)
    data = random.Random(4).randbytes(0x10000)
    packed = zlib.compress(data)
    blocks = [packed[i:i + BLOCK] for i in range(0, len(packed), BLOCK)]
    ld = stub.ld
    ld.command(op.FLASH_DEFL_BEGIN, u32s(len(data), len(blocks), BLOCK, offset))
    statuses = [ld.command(op.FLASH_DEFL_DATA, data_payload(b, i), checksum(b), check=False).status[0]
                for i, b in enumerate(blocks)]
    assert statuses[:3] == [0, 0, 0] and ST_FAILED_SPI_OP in statuses
    assert ld.command(op.FLASH_DEFL_END, u32s(1), check=False).status[0] == ST_FAILED_SPI_OP


def read_request(stub: Stub, addr: int, size: int, packet: int, window: int) -> None:
    stub.ld.command(op.READ_FLASH, u32s(addr, size, packet, window))


def test_read_flash_sends_a_window_of_packets_before_the_first_ack(stub: Stub) -> None:
    ld = stub.ld
    data = random.Random(5).randbytes(16 * 0x1000)
    ld.command(op.FLASH_BEGIN, u32s(len(data), 4, BLOCK, 0))
    for i in range(4):
        ld.data_command(op.FLASH_DATA, data[i * BLOCK:(i + 1) * BLOCK], i)
    ld.command(op.FLASH_END, u32s(1))
    read_request(stub, 0, len(data), 0x1000, 64)  # more than the stub's window of 8
    first = [ld.read_frame(3.0) for _ in range(8)]  # eight packets, no ack sent yet
    assert b"".join(first) == data[:8 * 0x1000]
    with pytest.raises(CommandTimeout):
        ld.read_frame(0.5)  # the ninth waits for an ack
    got = b"".join(first)
    ld.send_frame(struct.pack("<I", len(got)))
    while len(got) < len(data):
        got += ld.read_frame(3.0)
        ld.send_frame(struct.pack("<I", len(got)))
    assert got == data
    assert ld.read_frame(3.0) == hashlib.md5(data).digest()
    # A window of 2 requested: two packets, then nothing until an ack.
    read_request(stub, 0x1000, 0x3000, 0x1000, 2)
    two = [ld.read_frame(3.0) for _ in range(2)]
    with pytest.raises(CommandTimeout):
        ld.read_frame(0.5)
    ld.send_frame(struct.pack("<I", 0x2000))
    assert b"".join([*two, ld.read_frame(3.0)]) == data[0x1000:0x4000]
    ld.send_frame(struct.pack("<I", 0x3000))
    assert ld.read_frame(3.0) == hashlib.md5(data[0x1000:0x4000]).digest()


def test_sector_md5_matches_hashlib(stub: Stub) -> None:
    ld = stub.ld
    rnd = random.Random(6)
    offset = 0x140000
    data = rnd.randbytes(0x7000) + b"\xff" * 0x1000 + rnd.randbytes(0x800)  # last sector half written
    ld.command(op.FLASH_BEGIN, u32s(len(data), 3, BLOCK, offset))
    for i in range(0, len(data), BLOCK):
        ld.data_command(op.FLASH_DATA, data[i:i + BLOCK], i // BLOCK)
    ld.command(op.FLASH_END, u32s(1))
    padded = data + b"\xff" * 0x800
    count = len(padded) // 0x1000
    r = ld.command(SECTOR_MD5, u32s(offset, count), data_len=16 * count)
    expect = b"".join(hashlib.md5(padded[i:i + 0x1000]).digest() for i in range(0, len(padded), 0x1000))
    assert r.data == expect
    r = ld.command(SECTOR_MD5, u32s(offset + 0x3000, 1), data_len=16)
    assert r.data == hashlib.md5(data[0x3000:0x4000]).digest()


@pytest.mark.parametrize(("offset", "count", "status"), [
    (0x1001, 1, 0xC0), (0x1000, 0, 0xC0), (0, 1025, 0xC0), ((16 << 20) - 0x1000, 2, 0x63),
])
def test_sector_md5_refuses_bad_requests(stub: Stub, offset: int, count: int, status: int) -> None:
    assert stub.ld.command(SECTOR_MD5, u32s(offset, count), check=False).status[0] == status


def test_a_compressed_write_at_line_rate_keeps_the_fifo_below_its_size(stub: Stub) -> None:
    """Twice: into blank flash (the stub reads each 64 KiB block to see that it needs no erase) and
    over that data (block erases run while the next bytes arrive)."""
    from .test_unit import firmware_like

    for seed, erases in ((7, 0), (8, 2)):
        flash_timing(stub, program=16_000, erase=800_000)
        stub.set("sim_gap_max", 0)
        stub.set("sim_fifo_max", 0)
        data = firmware_like(0x20000, seed)
        packed = zlib.compress(data, 9)
        blocks = [packed[i:i + BLOCK] for i in range(0, len(packed), BLOCK)]
        ld = stub.ld
        ld.command(op.FLASH_DEFL_BEGIN, u32s(len(data), len(blocks), BLOCK, 0x40000))
        for i, b in enumerate(blocks):
            ld.data_command(op.FLASH_DEFL_DATA, b, i)
        ld.command(op.FLASH_DEFL_END, u32s(1))
        gap, peak = stub.get("sim_gap_max"), stub.get("sim_fifo_max")
        print(f"longest time without draining the RX FIFO: {gap} cycles ({gap // CYCLES_PER_BYTE_921600} bytes at "
              f"921600 baud, 80 MHz); FIFO peak {peak} of {FIFO} bytes; {erases} block erases")
        assert len([e for e in stub.log() if e[0] == "E"]) == erases
        assert stub.get("sim_fifo_overflows") == 0 and peak <= FIFO
        # a margin of 4 for a real core's slower cycles per instruction and register accesses
        assert 4 * gap < FIFO * CYCLES_PER_BYTE_921600
        stub.set("sim_cycles_per_byte", 0)
        assert ld.md5(0x40000, len(data), False) == hashlib.md5(data).digest()
