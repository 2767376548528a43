#!/usr/bin/env python3
"""Flash throughput: esptk against esptool 5.6, both talking to the same timed virtual chip.

The virtual chip's timing model charges the line rate (10 bits per byte at the current baud, both
directions), a per-transfer latency like a USB bridge's, NOR erase/program times and on-chip
inflate speed. Each tool writes (and verifies) the same firmware-like file over TCP.

    python bench/bench_flash.py [--size 1048576] [--baud 921600] [--latency-ms 4] [--chips esp32,esp8266]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def firmware_like(size: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(64)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.7 else rnd.randbytes(4) for _ in range(size // 4))


def serve(chip: str, flash: Path, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "esptk", "sim", "serve", "--chip", chip, "--tcp", "127.0.0.1:0", "--timing",
         "--latency-ms", str(latency_ms), "--flash-file", str(flash)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def timed(cmd: list[str]) -> float:
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if p.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--baud", type=int, default=921600)
    ap.add_argument("--latency-ms", type=float, default=4.0)
    ap.add_argument("--chips", default="esp32,esp8266")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "fw.bin"
        image.write_bytes(firmware_like(args.size))
        print(f"{args.size} bytes, firmware-like; {args.baud} baud; {args.latency_ms} ms latency per transfer")
        print(f"{'chip':8} {'loader':6} {'esptool s':>10} {'esptk s':>9} {'esptk speed-up':>15}")
        for chip in args.chips.split(","):
            for stub in (True, False):
                proc, url = serve(chip, Path(tmp) / f"{chip}.bin", args.latency_ms)
                try:
                    common = ["--chip", chip, "--port", url, "--baud", str(args.baud)]
                    extra = [] if stub else ["--no-stub"]
                    theirs = timed([sys.executable, "-m", "esptool", *common, "--before", "no-reset", "--after",
                                    "no-reset", *extra, "write-flash", "0x10000", str(image)])
                    ours = timed([sys.executable, "-m", "esptk", *common, "--after", "no_reset", *extra,
                                  "write-flash", "0x10000", str(image)])
                finally:
                    proc.terminate()
                    proc.wait()
                print(f"{chip:8} {'stub' if stub else 'ROM':6} {theirs:10.2f} {ours:9.2f} {theirs / ours:14.2f}x")


if __name__ == "__main__":
    main()
