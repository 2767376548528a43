#!/usr/bin/env python3
"""Build the esptk flasher stubs: `python3 stubs/build.py` writes the chip plugins' stub JSON files.

`--check` rebuilds into a temporary directory and fails when the bytes differ from the committed
blobs. `--tests DIR` also builds the QEMU test programs into DIR (used by tests/stub).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from elf2json import ElfCheckError, check_elf, elf_to_stub  # noqa: E402

CC = "xtensa-lx106-elf-gcc"
CFLAGS = [
    "-Os", "-std=c11", "-ffreestanding", "-nostdlib", "-fno-builtin", "-mlongcalls",
    "-mtext-section-literals", "-ffunction-sections", "-fdata-sections",
    "-fno-tree-loop-distribute-patterns", "-fno-jump-tables", "-fstack-usage",
    "-Wall", "-Wextra", "-Werror",
]
LDFLAGS = ["-Wl,--gc-sections"]
CORE = ["src/start.S", "src/stub.c", "src/rx.c", "src/flash.c", "src/slip.c", "src/inflate.c", "src/md5.c",
        "src/util.c"]
PROTOCOL_VERSION = 2
#: Upper bound on ROM routine stack use (not visible to -fstack-usage).
ROM_STACK = 1024


@dataclass(frozen=True)
class Target:
    name: str
    sources: list[str]
    linker_script: str
    defines: list[str]
    iram: tuple[int, int]
    dram: tuple[int, int]
    out: str | None = None  # plugin JSON path, relative to the repository root
    entry: str = "stub_entry"
    protocol: int = PROTOCOL_VERSION
    #: the stage-1 loader of this target (another Target's name): their RAM must not overlap
    loads: str | None = None


#: the stage-1 loader (src/stage1.c): ROM protocol subset, so protocol "1" in its JSON
STAGE1 = ["src/start.S", "src/stage1.c", "src/slip.c", "src/util.c"]
ESP8266_UART = ["chips/esp8266/uart_baud.c"]

TARGETS = [
    Target(
        "esp8266", CORE + ["chips/esp8266/hal.c", *ESP8266_UART, "src/hal_xtensa.c", "src/uart_fifo.c",
                           "src/spi_flash.c"],
        "chips/esp8266/memory.ld", ["-DUART0_STATUS_REG=0x6000001C", "-DSPI_BASE=0x60000200", "-DSPI_W0_OFFSET=0x40"],
        (0x40104800, 0x40108000), (0x3FFE8100, 0x3FFFC000),
        "plugins/esp8266/src/esptk_esp8266/stub/esp8266.json", loads="esp8266-stage1",
    ),
    Target(
        "esp8266-stage1", STAGE1 + ["chips/esp8266/hal.c", *ESP8266_UART, "src/hal_xtensa.c", "src/uart_fifo.c"],
        "chips/esp8266/stage1.ld", ["-DUART0_STATUS_REG=0x6000001C"],
        (0x4010E000, 0x4010E600), (0x3FFFA000, 0x3FFFC000),
        "plugins/esp8266/src/esptk_esp8266/stub/esp8266-stage1.json", protocol=1,
    ),
    Target(
        "esp32", CORE + ["chips/esp32/hal.c", "src/hal_xtensa.c", "src/uart_fifo.c", "src/spi_flash.c",
                  "chips/esp32/wincall.S"],
        "chips/esp32/memory.ld", ["-DSTUB_WINDOWED", "-DUART0_STATUS_REG=0x3FF4001C", "-DSPI_BASE=0x3FF42000",
                                  "-DSPI_W0_OFFSET=0x80", "-DSPI_OWN_CHIP_ERASE"],
        (0x40080000, 0x40084000), (0x3FFCA000, 0x3FFE0000),
        "plugins/esp32/src/esptk_esp32/stub/esp32.json",
    ),
]
TEST_TARGETS = [
    Target(
        "sim-stub", CORE + ["test/sim_hal.c", "test/vectors.S", "test/crash.c"], "test/memory.ld", [],
        (0x40104800, 0x40108800), (0x3FFE8100, 0x3FFFC000),
    ),
    Target(
        "sim-stub32", CORE + ["test/sim_hal.c", "test/vectors_all.S"], "test/memory32.ld",
        ["-DSTUB_WINDOWED", "-DSIM_ESP32"], (0x40002000, 0x40006000), (0x3FFE0000, 0x40000000),
    ),
    Target(
        "sim-stage1", STAGE1 + [*ESP8266_UART, "test/sim_hal.c", "test/vectors.S", "test/crash.c"], "test/stage1.ld",
        [], (0x4010E000, 0x4010F000), (0x3FFF8000, 0x3FFFC000), protocol=1,
    ),
    Target(
        "sim-unit", ["src/start.S", "src/slip.c", "src/inflate.c", "src/md5.c", "src/util.c",
                     "test/unit_main.c", "test/vectors.S", "test/crash.c"], "test/memory.ld", [],
        (0x40104800, 0x40108800), (0x3FFE8100, 0x3FFFC000),
    ),
    Target(
        "sim-window", ["src/start.S", "chips/esp32/wincall.S", "test/window_rom.S", "test/window_main.c"],
        "test/window.ld", ["-DSTUB_WINDOWED"], (0x40000000, 0x40010000), (0x3FFE0000, 0x3FFF0000),
        entry="rom_reset",
    ),
]


def run(cmd: list[str], cwd: Path = HERE) -> str:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout


def toolchain_versions() -> dict[str, str]:
    return {
        "gcc": run([CC, "--version"]).splitlines()[0],
        "binutils": run(["xtensa-lx106-elf-ld", "--version"]).splitlines()[0],
    }


def source_hash(target: Target) -> str:
    """SHA-256 over the names and contents of every file that goes into the target."""
    files = set(target.sources) | {target.linker_script, "src/sections.ld", "build.py", "elf2json.py"}
    files |= {str(p.relative_to(HERE)) for p in (HERE / "src").glob("*.h")}
    for folder in {Path(s).parent for s in target.sources}:
        files |= {str(p.relative_to(HERE)) for p in (HERE / folder).glob("*.h")}
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + (HERE / name).read_bytes() + b"\0")
    return h.hexdigest()


def stack_usage(objdir: Path) -> int:
    """Sum of every function's frame: an upper bound on any call chain (the code has no recursion)."""
    total = 0
    for su in objdir.glob("*.su"):
        for line in su.read_text().splitlines():
            size, kind = line.split("\t")[1:3]
            if kind.strip() != "static":
                raise SystemExit(f"{su.name}: dynamic stack use in {line}")
            total += int(size)
    return total


def build(target: Target, outdir: Path) -> Path:
    objdir = outdir / target.name
    objdir.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in target.sources:
        obj = objdir / (Path(src).name.replace(".", "_") + ".o")
        run([CC, *CFLAGS, *target.defines, "-Isrc", "-Itest", "-c", src, "-o", str(obj)])
        objs.append(str(obj))
    elf = objdir / f"{target.name}.elf"
    run([CC, *CFLAGS, *LDFLAGS, f"-Wl,--entry={target.entry}", "-Lsrc", f"-T{target.linker_script}", *objs,
         "-o", str(elf), f"-Wl,-Map={objdir / (target.name + '.map')}"])
    return elf


def ram_ranges(image_json: str, stack_top: int) -> list[tuple[int, int]]:
    """[start, end) of what a stub image occupies: its code, and its DRAM from data to the stack top."""
    import json

    d = json.loads(image_json)
    text = (d["text_start"], d["text_start"] + d["build"]["text_size"])
    return [text, (d["data_start"], stack_top)]


def check_stage1(stub: Target, stub_json: str, stage1: Target, stage1_json: str) -> None:
    """The stage-1 loader (all its RAM, stack included) must lie clear of the main stub's loaded
    segments (code and data: what it writes while stage 1 still runs)."""
    import json

    d = json.loads(stub_json)
    loaded = [(d["text_start"], d["text_start"] + d["build"]["text_size"]),
              (d["data_start"], d["data_start"] + d["build"]["data_size"])]
    for lo, hi in ram_ranges(stage1_json, stage1.dram[1]):
        for a, b in loaded:
            if lo < b and a < hi:
                raise ElfCheckError(f"{stage1.name} {lo:#x}-{hi:#x} overlaps {stub.name}'s segment {a:#x}-{b:#x}")


def build_blob(target: Target, outdir: Path) -> str:
    elf = build(target, outdir)
    stack = stack_usage(outdir / target.name)
    info = check_elf(elf, target.iram, target.dram, stack + ROM_STACK)
    image = elf_to_stub(elf, target.protocol, {
        "toolchain": toolchain_versions(),
        "source_sha256": source_hash(target),
        "stack_bound": stack + ROM_STACK,
        **info,
    })
    return image.to_json()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed blobs differ from a rebuild")
    ap.add_argument("--tests", type=Path, help="build only the QEMU test programs, into this directory")
    args = ap.parse_args(argv)
    if args.tests:
        for t in TEST_TARGETS:
            print(f"{t.name}: {build(t, args.tests.resolve())}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        failed = False
        built: dict[str, str] = {}
        for t in TARGETS:
            assert t.out
            try:
                text = built[t.name] = build_blob(t, work)
            except ElfCheckError as e:
                print(f"{t.name}: {e}", file=sys.stderr)
                return 1
            dest = ROOT / t.out
            if args.check:
                same = dest.exists() and dest.read_text() == text
                print(f"{t.name}: {'up to date' if same else 'DIFFERS from ' + t.out}")
                failed |= not same
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(text)
                print(f"{t.name}: wrote {t.out}")
        for t in TARGETS:
            if t.loads:
                stage1 = next(x for x in TARGETS if x.name == t.loads)
                try:
                    check_stage1(t, built[t.name], stage1, built[stage1.name])
                except ElfCheckError as e:
                    print(f"{t.name}: {e}", file=sys.stderr)
                    return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
