#!/usr/bin/env python3
"""Our stub's own speed: esptk's host drives the compiled stub under qemu-system-xtensa.

Builds the QEMU test programs (needs gcc-xtensa-lx106 and qemu-system-xtensa), then times a 1 MiB
compressed write and a 1 MiB read with acks for each chip's build. QEMU runs instructions far
faster than an 80/160 MHz core but the numbers show where the stub's own work (inflate, MD5, SLIP)
stands against the 90 KB/s that 921600 baud carries.

    python bench/bench_stub_qemu.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stub.e2e import FLASH_SIZE, FLAVOURS, stub_session  # noqa: E402
from tests.stub.qemu import build_test_programs, missing_tools  # noqa: E402

from esptk import flasher  # noqa: E402
from esptk.flasher import Region  # noqa: E402
from esptk.plugins import make_plugin_manager  # noqa: E402


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


if __name__ == "__main__":
    main()
