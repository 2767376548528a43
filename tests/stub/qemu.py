"""Running compiled stub code under qemu-system-xtensa (shared by the stub tests)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "stubs" / "build.py"
QEMU = "qemu-system-xtensa"
GCC = "xtensa-lx106-elf-gcc"


def missing_tools() -> str | None:
    """Why the QEMU tests cannot run here, or None."""
    for tool, pkg in ((QEMU, "qemu-system-misc"), (GCC, "gcc-xtensa-lx106")):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install {pkg})"
    return None


def build_test_programs(outdir: Path) -> dict[str, Path]:
    subprocess.run([sys.executable, str(BUILD), "--tests", str(outdir)], check=True, capture_output=True)
    return {p.parent.name: p for p in outdir.glob("*/*.elf")}


def qemu_command(elf: Path, cpu: str = "lx106", icount: int | None = None,
                 words: dict[int, int] | None = None) -> list[str]:
    """With ``icount``, each instruction takes 2**icount ns of virtual time: CCOUNT (40 MHz on the
    sim machine's cores) then advances 0.04 * 2**icount per instruction (1.28 at icount=5).
    ``words``: 32-bit values QEMU's loader device puts at those addresses before the start."""
    timing = ["-icount", f"shift={icount}"] if icount is not None else []
    preset = [a for addr, value in (words or {}).items()
              for a in ("-device", f"loader,addr={addr:#x},data={value:#x},data-len=4")]
    return [QEMU, "-M", "sim", "-cpu", cpu, "-display", "none", "-monitor", "none", "-serial", "none",
            "-semihosting", *timing, *preset, "-device", f"loader,file={elf},cpu-num=0"]
