#!/usr/bin/env python3
"""Flash throughput: esptk against esptool 5.6, side by side, through an independent link clock.

Both tools talk to the same virtual chip (``esptk sim serve --tcp ... --option timing=flash``: it
charges NOR erase/program, inflate and MD5 time and models how each loader overlaps them, see
``esptk_sim.timing``) through ``bench/linkclock.py`` (a TCP proxy clocking baud/10 bytes per second
each way with a fixed latency and following CHANGE_BAUDRATE). Runs are interleaved (esptool, esptk,
and optionally esptk against a chip modelling our stub as protocol 1 (``--v1``) or as a protocol-2
stub with more blocks in flight (``--in-flight N``) — models, not measurements of stub code).

Cases (issue 10): ``app`` P1 app set (ESP32: bootloader 0x1000 + partition table 0x8000 + 600 KB app
0x10000; ESP8266: 600 KB app at 0), ``mib`` P1 1 MiB at 0x10000, ``read`` P3 read-flash of 4 MiB,
``reflash`` P2: write the app set again after a change inside one sector (each tool's default, and
esptool's ``--diff-with`` given the files flashed before). P1 runs each write on a virtual chip started
for it, in one of two states: ``app``/``mib`` on flash that holds other data (a board flashed before:
random bytes, every sector must be erased), ``app-erased``/``mib-erased`` on erased flash (a
factory-fresh chip, or one after erase-flash: esptk's stub reads a sector or block before erasing
it and skips the erase when it is blank; esptool's erases it all the same).

Every figure is printed: whole-process seconds (median, min–max), the write phase as each tool reports
it, and the wire limit (compressed bytes × 10 / baud; reads: bytes × 10 / baud). Nothing passes or fails.

    python bench/bench_flash.py [--pairs 5] [--latency-ms 1,4] [--chips esp32,esp8266]
                                [--cases app,mib,read,reflash] [--v1] [--in-flight N]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def firmware_like(size: int, seed: int = 7) -> bytes:
    """Compresses like a real app (zlib -9: ×1.74; esptool issue #919's app: ×1.74)."""
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(64)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.7 else rnd.randbytes(4) for _ in range(size // 4))


def app_set(chip: str, tmp: Path) -> list[tuple[int, Path]]:
    def put(name: str, data: bytes) -> Path:
        p = tmp / name
        p.write_bytes(data)
        return p

    app = put("app.bin", firmware_like(600 * 1024))
    if chip == "esp8266":
        return [(0x0, app)]
    boot = put("boot.bin", firmware_like(26 * 1024, seed=3))
    table = put("parts.bin", (bytes(range(96)) * 2).ljust(3072, b"\xff"))
    return [(0x1000, boot), (0x8000, table), (0x10000, app)]


def flash_floor(regions: list[tuple[int, Path]], erase: bool = True) -> float:
    """The virtual chip's own flash work for the regions (erase as 64 KiB blocks where aligned, else
    sectors; one page program per 256 bytes): no loader writes faster *in this model*. It is the
    model's assumption (``esptk_sim.nor.NorTiming``, page time calibrated to esptool issue #919), not a
    measurement."""
    from esptk_sim.nor import BLOCK, PAGE, SECTOR, NorTiming

    t, total = NorTiming(), 0.0
    for addr, path in regions:
        size = len(path.read_bytes())
        a, end = addr - addr % SECTOR, -(-(addr + size) // SECTOR) * SECTOR
        while erase and a < end:
            step = BLOCK if not a % BLOCK and end - a >= BLOCK else SECTOR
            total += t.block_erase if step == BLOCK else t.sector_erase
            a += step
        total += -(-size // PAGE) * t.page_program
    return total


def wire_seconds(regions: list[tuple[int, Path]], baud: int) -> tuple[float, int]:
    packed = 0
    for _addr, path in regions:
        data = path.read_bytes()
        data += b"\xff" * (-len(data) % 4)
        packed += min(len(zlib.compress(data, 9)), len(data))
    return packed * 10 / baud, packed


class Endpoint:
    """A virtual chip server and a link clock in front of it."""

    def __init__(self, chip: str, flash: Path, latency_ms: float, extra: list[str]) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        sim = self._start([PY, "-m", "esptk", "sim", "serve", "--chip", chip, "--tcp", "127.0.0.1:0",
                           "--option", "timing=flash", "--flash-file", str(flash), *extra])
        self.url = self._start([PY, str(HERE / "linkclock.py"), "--upstream", sim.removeprefix("socket://"),
                                "--latency-ms", str(latency_ms)])

    def _start(self, cmd: list[str]) -> str:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(p)
        assert p.stdout is not None
        return p.stdout.readline().strip()

    def close(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            p.wait()


@dataclass
class Runs:
    total: list[float] = field(default_factory=list)
    phase: list[float] = field(default_factory=list)


#: esptool's summary line (esptk prints it too off a terminal), else esptk's own (stderr)
PHASE = re.compile(r"(?:Wrote|Read) \d+ bytes.*? in ([\d.]+) seconds")
OWN_PHASE = re.compile(r"(?:Wrote|Read) \d+ bytes.*? in ([\d.]+) s\b")


def timed(cmd: list[str], runs: Runs) -> None:
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    dt = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    runs.total.append(dt)
    runs.phase.append(sum(float(x) for x in PHASE.findall(p.stdout) or OWN_PHASE.findall(p.stderr)))


def commands(tool: str, chip: str, url: str, baud: int, case: str, regions: list[tuple[int, Path]],
             out: Path, old: list[Path] | None = None) -> list[str]:
    files = [x for a, p in regions for x in (hex(a), str(p))]
    if tool == "esptool":
        head = [PY, "-m", "esptool", "--chip", chip, "--port", url, "--baud", str(baud), "--before", "no-reset",
                "--after", "no-reset"]
        if case == "read":
            return head + ["read-flash", "0", "0x400000", str(out)]
        diff = ["--diff-with", *map(str, old)] if old else []
        return head + ["write-flash", *files, *diff]
    head = [PY, "-m", "esptk", "--chip", chip, "--port", url, "--baud", str(baud), "--after", "no_reset"]
    if case == "read":
        return head + ["read-flash", "0", "0x400000", str(out)]
    # P1 measures writing: every sector, as esptool does; P2 (reflash) uses esptk's default, which skips
    return head + ["write-flash", *(["--no-skip"] if case != "reflash" else []), *files]


def describe(runs: list[float]) -> str:
    if not runs:
        return "-"
    return f"{statistics.median(runs):6.2f} ({min(runs):.2f}–{max(runs):.2f})"


def bench_case(chip: str, case: str, latency: float, args: argparse.Namespace, tmp: Path) -> None:
    regions = app_set(chip, tmp)
    if case.startswith("mib"):
        p = tmp / "mib.bin"
        p.write_bytes(firmware_like(1 << 20, seed=11))
        regions = [(0x10000, p)]
    fresh = case.startswith(("app", "mib"))  # P1: a chip started for each run, in a known state
    old_data = tmp / "old-content.flash"
    if fresh and not case.endswith("-erased") and not old_data.exists():
        old_data.write_bytes(random.Random(5).randbytes(0x400000))
    if case == "read":
        limit, size = 0x400000 * 10 / args.baud, 0x400000
    else:
        limit, size = wire_seconds(regions, args.baud)
    tools: dict[str, Runs] = {}
    tag = f"{chip}-{case}-{latency:g}"
    extras: dict[str, list[str]] = {"esptool": [], "esptk": []}
    if case == "reflash":  # esptool's fast reflash needs the files flashed before
        extras["esptool --diff-with"] = []
    for name, extra in args.models:
        extras[name] = extra
    for name in extras:
        tools[name] = Runs()

    def endpoint(name: str, n: int) -> Endpoint:
        flash = tmp / f"{tag}.{n}.flash"
        if fresh:
            flash.unlink(missing_ok=True)
            if old_data.exists() and not case.endswith("-erased"):
                flash.write_bytes(old_data.read_bytes())
        return Endpoint(chip, flash, latency, extras[name])

    endpoints = {} if fresh else {name: endpoint(name, n) for n, name in enumerate(extras)}
    try:
        for i in range(args.pairs):
            for n, (name, runs) in enumerate(tools.items()):
                tool = "esptool" if name.startswith("esptool") else "esptk"
                if fresh:  # untimed: a new chip process in the case's flash state
                    endpoints[name] = endpoint(name, n)
                url = endpoints[name].url
                old: list[Path] | None = None
                if case == "reflash":  # the flash holds the set; one byte inside one sector changes
                    # (any tool may put the set there: esptk's skipping makes that untimed step short)
                    timed(commands("esptk", chip, url, args.baud, "reflash", regions, tmp / "out.bin"), Runs())
                    app = regions[-1][1]
                    data = bytearray(app.read_bytes())
                    if name == "esptool --diff-with":
                        old = [p.with_suffix(".old") for _a, p in regions]
                        for (_a, p), o in zip(regions, old):
                            o.write_bytes(p.read_bytes())
                    data[0x5000 + i] ^= 0xFF
                    app.write_bytes(bytes(data))
                timed(commands(tool, chip, url, args.baud, case, regions, tmp / "out.bin", old), runs)
                if fresh:
                    endpoints.pop(name).close()
    finally:
        for e in endpoints.values():
            e.close()
    what = "bytes read" if case == "read" else "compressed bytes"
    print(f"\n{chip} {case}: {args.baud} baud, {latency:g} ms latency, {args.pairs} interleaved runs each; "
          f"wire limit {limit:.2f} s ({size} {what} × 10 / baud)")
    if fresh:
        floor = flash_floor(regions)
        print(f"  the model's flash work for these regions: {floor:.2f} s = {floor / limit:.2f}× the wire limit "
              "(an assumption of the virtual chip, not a measurement: no loader that erases writes faster in "
              "this model)")
        if case.endswith("-erased"):
            pages = flash_floor(regions, erase=False)
            print(f"  without the erases (the flash is blank): {pages:.2f} s = {pages / limit:.2f}× the wire limit")
    refs = [n for n in ("esptool", "esptool --diff-with") if n in tools]
    print(f"  {'tool':20} {'whole process s':>22} {'write/read phase s':>22} {'phase/wire':>10}"
          + "".join(f" {'vs ' + n:>24}" for n in refs))
    for name, runs in tools.items():
        phase = statistics.median(runs.phase) if runs.phase else 0.0
        ratios = "".join(f" {statistics.median(runs.total) / statistics.median(tools[n].total):23.2f}x" for n in refs)
        print(f"  {name:20} {describe(runs.total):>22} {describe(runs.phase):>22} {phase / limit:10.2f}{ratios}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--baud", type=int, default=921600)
    ap.add_argument("--latency-ms", default="1,4")
    ap.add_argument("--chips", default="esp32,esp8266")
    ap.add_argument("--cases", default="app,app-erased,mib,mib-erased,read,reflash")
    ap.add_argument("--v1", action="store_true", help="also run esptk against a chip modelling our stub as protocol 1")
    ap.add_argument("--in-flight", type=int, default=0,
                    help="also run esptk against a protocol-2 stub model with this many blocks in flight")
    args = ap.parse_args()
    args.models = ([("esptk v1 model", ["--option", "stub_protocol=1"])] if args.v1 else []) + (
        [(f"esptk {args.in_flight} in flight", ["--option", "stub_protocol=2", "--option",
                                                 f"stub_in_flight={args.in_flight}"])] if args.in_flight else [])
    print("figures: whole process = wall time of each command (start-up, connect, stub, write, verify);")
    print("phase = the time each tool prints for its writes/reads; wire limit = bytes on the line × 10 / baud")
    with tempfile.TemporaryDirectory() as tmp:
        for chip in args.chips.split(","):
            for latency in (float(x) for x in args.latency_ms.split(",")):
                for case in args.cases.split(","):
                    bench_case(chip, case, latency, args, Path(tmp))


if __name__ == "__main__":
    main()
