#!/usr/bin/env python3
"""flash-many scaling: the time for N boards in parallel against the time for one.

Each board is an ``esptk sim serve --timing`` process (its own virtual chip with the line-rate,
latency and NOR timing model) on TCP; one ``esptk flash-many`` process flashes them all. The figures:

* wall time for 1, 8 and 16 boards, and the ratio N/1 (targets: 8 boards ≤ 1.3×, 16 ≤ 1.5×);
* CPU seconds of the flash-many process (from ``wait4``), per board: the host's own cost.

What this measures: whether the host (one process, a thread per board) keeps up with many links.
What it does not: the virtual chips run on the same machine (2 cores here), so with many boards
their CPU competes with the host's and the ratio includes that; real boards bring their own CPUs.
Only a rack of real boards and USB hubs can confirm the ratio for real links.

    python bench/bench_many.py [--boards 1,8,16] [--size 131072] [--baud 115200] [--latency-ms 1]
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


def serve(flash: Path, mac: str, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "esptk", "sim", "serve", "--chip", "esp32", "--tcp", "127.0.0.1:0", "--timing",
         "--latency-ms", str(latency_ms), "--flash-file", str(flash), "--mac", mac],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def run(n: int, image: Path, work: Path, baud: int, latency_ms: float) -> tuple[float, float, int]:
    servers = [serve(work / f"flash{n}-{i}.bin", f"24:0a:c4:00:{n:02x}:{i:02x}", latency_ms) for i in range(n)]
    try:
        cmd = [sys.executable, "-m", "esptk", "--before", "no_reset", "--baud", str(baud), "--json", "flash-many",
               "--no-skip"]
        for _proc, url in servers:
            cmd += ["--port", url]
        cmd += ["0x10000", str(image)]
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "NO_COLOR": "1"})
        _pid, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)
    finally:
        for proc, _url in servers:
            proc.terminate()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--boards", default="1,8,16")
    ap.add_argument("--size", type=int, default=128 * 1024)
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--latency-ms", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    counts = [int(x) for x in a.boards.split(",")]
    limits = {8: 1.3, 16: 1.5}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        image = work / "app.bin"
        image.write_bytes(firmware_like(a.size))
        print(f"flash-many: {a.size} bytes per board, {a.baud} baud, {a.latency_ms} ms latency, "
              f"{os.cpu_count()} host cores, median of {a.repeat}")
        base = None
        for n in counts:
            walls, cpus = [], []
            for _ in range(a.repeat):
                wall, cpu, rc = run(n, image, work, a.baud, a.latency_ms)
                if rc != 0:
                    print(f"  {n:2d} boards: flash-many exited {rc}")
                walls.append(wall)
                cpus.append(cpu)
            walls.sort()
            cpus.sort()
            wall, cpu = walls[len(walls) // 2], cpus[len(cpus) // 2]
            base = base or wall
            limit = f" (target ≤ {limits[n]}×)" if n in limits else ""
            print(f"  {n:2d} boards: {wall:6.2f} s (min {walls[0]:.2f}, max {walls[-1]:.2f}), "
                  f"{wall / base:.2f}× one board{limit}; host CPU {cpu:.2f} s = {cpu / n:.3f} s per board")
    print("figures are for this machine: the virtual chips share its cores with the host process")


if __name__ == "__main__":
    main()
