#!/usr/bin/env python3
"""Time esptk against esptool 5.6 on the largest conformance input (not a test).

    .venv/bin/python bench/bench_images.py [--repeat N]

Measures ``elf2image`` of esp32-app-template.elf and ``merge-bin`` of the ESP-IDF layout built
from it (bootloader + partition table + app, with header patching), each
* as a subprocess of each tool (what a build system sees, start-up included), and
* in-process for esptk (the library calls alone, no interpreter start-up).
Prints median times and the esptool/esptk ratio (> 1 means esptk is faster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INPUTS = Path(os.environ.get("ESPTK_CONFORMANCE", REPO.parent / "shared" / "conformance")) / "public" / "inputs"
BIN = Path(sys.executable).parent


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESPTOOL_", "ESPTK_"))}
    subprocess.run(argv, check=True, capture_output=True, env=env)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    opts = ap.parse_args()
    elf = INPUTS / "esp32-app-template.elf"
    if not elf.is_file():
        print(f"conformance inputs not found at {INPUTS}")
        return 1
    esptool = shutil.which("esptool", path=str(BIN)) or shutil.which("esptool")
    esptk = [sys.executable, "-m", "esptk"]
    work = Path(tempfile.mkdtemp(prefix="esptk-bench-"))
    merge_args = ["--flash-mode", "dio", "--flash-freq", "40m", "--flash-size", "4MB",
                  "0x1000", str(INPUTS / "esp32-bootloader.bin"), "0x8000", str(INPUTS / "partitions_singleapp.bin"),
                  "0x10000", str(INPUTS / "esp32-app-template.bin")]

    def elf_cmd(tool: list[str], out: str) -> list[str]:
        return [*tool, "--chip", "esp32", "elf2image", "-o", str(work / out), str(elf)]

    def merge_cmd(tool: list[str], out: str) -> list[str]:
        return [*tool, "--chip", "esp32", "merge-bin", "-o", str(work / out), *merge_args]

    # in-process esptk: the same work through the library
    from esptk.image import merge
    from esptk.image.elf import ElfFile
    from esptk.image.files import write_files
    from esptk.image.model import ImageSettings
    from esptk.plugins import make_plugin_manager

    reg = make_plugin_manager()
    chip = reg.chip("esp32")

    def lib_elf2image() -> None:
        files = reg.chip_hook(chip).esptk_build_image(chip=chip, elf=ElfFile.load(str(elf)), settings=ImageSettings())
        write_files([(str(work / "lib.bin"), files[0].data)])

    def lib_merge() -> None:
        pairs = [(int(merge_args[i], 0), merge_args[i + 1]) for i in range(6, len(merge_args), 2)]
        pieces = merge.load_pieces(pairs)
        merge.check_overlaps(pieces)
        merge.patch_pieces(reg, chip, pieces, "dio", "40m", "4MB")
        write_files([(str(work / "lib-merged.bin"), merge.merge_raw(pieces))])

    rows = []
    for label, make in (("elf2image", elf_cmd), ("merge-bin", merge_cmd)):
        t_tk = median_time(lambda make=make: run(make(esptk, "tk.out")), opts.repeat)
        t_tool = median_time(lambda make=make: run(make([esptool], "tool.out")), opts.repeat) if esptool else None
        same = esptool is not None and (work / "tk.out").read_bytes() == (work / "tool.out").read_bytes()
        lib = lib_elf2image if label == "elf2image" else lib_merge
        t_lib = median_time(lib, opts.repeat)
        rows.append((label, t_tool, t_tk, t_lib, same))
    shutil.rmtree(work, ignore_errors=True)

    print(f"median of {opts.repeat} runs, input {elf.name} ({elf.stat().st_size} bytes)")
    print(f"{'command':<10} {'esptool':>9} {'esptk':>9} {'ratio':>7} {'esptk lib':>10}  identical")
    for label, t_tool, t_tk, t_lib, same in rows:
        tool_s = f"{t_tool * 1000:7.0f}ms" if t_tool else "      n/a"
        ratio = f"{t_tool / t_tk:6.2f}x" if t_tool else "    n/a"
        print(f"{label:<10} {tool_s:>9} {t_tk * 1000:7.0f}ms {ratio:>7} {t_lib * 1000:8.1f}ms  {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
