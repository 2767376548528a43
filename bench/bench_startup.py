#!/usr/bin/env python3
"""Start-up time (issue 10, target P5): esptk against esptool 5.6 as whole processes.

Runs `--help`, `elf2image` and `merge-bin` with each tool's executable from this environment, in
interleaved pairs (esptk, esptool, esptk, ...), and prints per command the wall time and the CPU
time (user + system) of each tool as median and min-max, their ratio, and the target (esptk <= 0.8x
esptool). Figures only, never pass/fail. Measure with `python -X importtime -m esptk ...` to see where
the time goes.

    python bench/bench_startup.py [--pairs 7] [--commands help,elf2image,merge-bin] [--compile]

esptk's start-up fast path (esptk/cli/fast.py) uses caches that a first (typer) run writes: the
warm-up run of each command fills them. esptool is installed with compiled bytecode; esptk's editable
sources have none while PYTHONDONTWRITEBYTECODE is set (each run then compiles every module it
imports). ``--compile`` compiles them first, as ``pip install`` of a wheel would; the last line says
which case was measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.8


def executable(name: str) -> str:
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def inputs(work: Path) -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT))
    from tests.image.elfwriter import make_elf

    elf = work / "app.elf"
    elf.write_bytes(make_elf([(".iram0.text", 0x40080000, bytes(range(256)) * 64),
                              (".dram0.data", 0x3FFB0000, b"\x11" * 4096),
                              (".flash.text", 0x400D0020, bytes(range(7, 256)) * 256)]))
    (work / "a.bin").write_bytes(b"\xaa" * 20000)
    (work / "b.bin").write_bytes(b"\xbb" * 70000)
    return {
        "help": ["--help"],
        "elf2image": ["--chip", "esp32", "elf2image", "-o", str(work / "{tool}.bin"), str(elf)],
        "merge-bin": ["--chip", "esp32", "merge-bin", "-o", str(work / "{tool}-merged.bin"),
                      "0x1000", str(work / "a.bin"), "0x10000", str(work / "b.bin")],
    }


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+system) of one whole process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
    return elapsed, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--commands", default="help,elf2image,merge-bin")
    ap.add_argument("--compile", action="store_true", help="compile esptk's sources to bytecode first")
    args = ap.parse_args()
    if args.compile:
        import compileall

        for src in [ROOT / "core" / "src", *ROOT.glob("plugins/**/src")]:
            compileall.compile_dir(str(src), quiet=1)
    tools = {"esptk": executable("esptk"), "esptool": executable("esptool")}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        table = inputs(work)
        print(f"{'command':<10} {'measure':<5} {'esptk median (min-max)':>24} {'esptool median (min-max)':>26}"
              f" {'ratio':>6}  target")
        for name in args.commands.split(","):
            wall: dict[str, list[float]] = {t: [] for t in tools}
            cpu: dict[str, list[float]] = {t: [] for t in tools}
            for tool in tools:  # one warm-up run each (file cache, .pyc)
                timed([tools[tool], *(a.replace("{tool}", tool) for a in table[name])])
            for _ in range(args.pairs):
                for tool, exe in tools.items():
                    w, c = timed([exe, *(a.replace("{tool}", tool) for a in table[name])])
                    wall[tool].append(w)
                    cpu[tool].append(c)
            for label, series in (("wall", wall), ("cpu", cpu)):
                med = {t: statistics.median(v) for t, v in series.items()}
                cells = [f"{med[t]:.3f} ({min(v):.3f}-{max(v):.3f})" for t, v in series.items()]
                print(f"{name:<10} {label:<5} {cells[0]:>24} {cells[1]:>26} {med['esptk'] / med['esptool']:6.2f}"
                      f"  <= {TARGET}")
    print(f"{args.pairs} interleaved pairs per command, seconds, whole processes (cpu = user + system time of"
          " the process, less sensitive to other load than wall time)")
    compiled = any((ROOT / "core" / "src" / "esptk" / "cli" / "__pycache__").glob("fast.*.pyc"))
    print(f"esptk's sources {'have' if compiled else 'have no'} compiled bytecode"
          f" (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})")


if __name__ == "__main__":
    main()
