#!/usr/bin/env python3
"""Our stub's own speed: esptk's host drives the compiled stub under qemu-system-xtensa.

Builds the QEMU test programs (needs gcc-xtensa-lx106 and qemu-system-xtensa), then times a 1 MiB
compressed write and a 1 MiB read with acks for each chip's build. QEMU runs instructions far
faster than an 80/160 MHz core but the numbers show where the stub's own work (inflate, MD5, SLIP)
stands against the 90 KB/s that 921600 baud carries.

Then, in modelled time (QEMU -icount, the test HAL's serial line at 921600 baud and a NOR flash
with typical timing, CCOUNT read as an 80 MHz clock): a 256 KiB compressed write, stop-and-wait
host, against the wire time of the bytes sent. The ratio is what streaming leaves of the line's
capacity; it models neither host latency nor a real chip's CPI.

    python bench/bench_stub_qemu.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stub.e2e import FLASH_SIZE, FLAVOURS, stub_session, u32s  # noqa: E402
from tests.stub.qemu import build_test_programs, missing_tools  # noqa: E402
from tests.stub.test_streaming import CYCLES_PER_BYTE_921600, ICOUNT, Stub, flash_timing  # noqa: E402

from esptk import flasher  # noqa: E402
from esptk.flasher import Region  # noqa: E402
from esptk.plugins import make_plugin_manager  # noqa: E402
from esptk.protocol import op, slip  # noqa: E402
from esptk.protocol.packets import checksum, data_payload, request  # noqa: E402

CLOCK_HZ = 80_000_000


PROGRAM_CYCLES = 16_000  # 0.2 ms per 64-byte program (0.8 ms a page)
ERASE_CYCLES = 3_600_000  # 45 ms per sector; the test HAL takes 4x for a 64 KiB block


def modelled_write(stub: Stub, data: bytes) -> tuple[float, float, float]:
    """Modelled seconds from the first request byte to the DEFL_END reply, the wire time of the
    bytes sent and the flash's own busy time (programs and erases)."""
    packed = zlib.compress(data, 9)
    blocks = [packed[i:i + 0x4000] for i in range(0, len(packed), 0x4000)]
    flash_timing(stub, program=PROGRAM_CYCLES, erase=ERASE_CYCLES)
    ld = stub.ld
    frames = [request(op.FLASH_DEFL_BEGIN, u32s(len(data), len(blocks), 0x4000, 0x100000))]
    frames += [request(op.FLASH_DEFL_DATA, data_payload(b, i), checksum(b)) for i, b in enumerate(blocks)]
    frames.append(request(op.FLASH_DEFL_END, u32s(1)))
    wire = sum(len(slip.encode(f)) for f in frames)
    for f in frames:
        ld.send_frame(f)
        assert ld.wait_reply(f[1], check=False).status[0] == 0
    log = stub.log()
    start = next(t for kind, _v, t in log if kind == "R")
    end = [t for kind, _v, t in log if kind == "T"][-1]
    busy = len(data) // 64 * PROGRAM_CYCLES + -(-len(data) // 0x10000) * 4 * ERASE_CYCLES
    return (end - start) / CLOCK_HZ, wire * CYCLES_PER_BYTE_921600 / CLOCK_HZ, busy / CLOCK_HZ


def firmware_like(size: int, seed: int = 42) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(64)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.7 else rnd.randbytes(4) for _ in range(size // 4))


def main() -> None:
    missing = missing_tools()
    if missing:
        raise SystemExit(f"cannot run: {missing}")
    reg = make_plugin_manager()
    data = firmware_like(1 << 20)
    with tempfile.TemporaryDirectory() as tmp:
        programs = build_test_programs(Path(tmp))
        print(f"{'build':8} {'deflate write':>14} {'read with acks':>15}   (1 MiB each; 921600 baud carries ~90 KiB/s)")
        for flavour, (program, cpu, *_rest) in FLAVOURS.items():
            with stub_session(reg, programs[program], cpu) as (s, _t):
                t0 = time.monotonic()
                flasher.write_flash(s, [Region(0x10000, data)], compress=True, flash_size=FLASH_SIZE)
                write = len(data) / (time.monotonic() - t0) / 1024
                t0 = time.monotonic()
                assert flasher.read_flash(s, 0x10000, len(data)) == data
                read = len(data) / (time.monotonic() - t0) / 1024
            print(f"{flavour:8} {write:10.0f} KiB/s {read:11.0f} KiB/s")
        print("\nmodelled 256 KiB compressed write at 921600 baud (line + NOR model, -icount):")
        for flavour, (program, cpu, *_rest) in FLAVOURS.items():
            with stub_session(reg, programs[program], cpu, icount=ICOUNT) as (s, _t):
                took, wire, busy = modelled_write(Stub(s.loader, programs[program]), data[:0x40000])
            print(f"{flavour:8} {took * 1000:7.1f} ms; wire limit {wire * 1000:7.1f} ms, flash busy "
                  f"{busy * 1000:7.1f} ms: {took / wire:.3f}x the wire time")


if __name__ == "__main__":
    main()
