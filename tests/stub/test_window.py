"""ESP32 entry and windowed-call trampoline on QEMU's windowed de212 core.

A small windowed "ROM" (stubs/test/window_rom.S) enters the real start-up code (stubs/src/start.S,
windowed build) with CALLX4, CALLX8, CALLX12 or a plain jump, from six live windowed frames. The
call0 C code then calls windowed functions through the real trampoline (stubs/chips/esp32/wincall.S):
three and six arguments, and 40-45 deep recursion that overflows the 32-register file many times.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .qemu import qemu_command


@pytest.mark.parametrize("how", ["4", "8", "C", "J"], ids=["callx4", "callx8", "callx12", "jump"])
def test_windowed_entry_and_rom_calls(programs: dict[str, Path], how: str) -> None:
    r = subprocess.run(qemu_command(programs["sim-window"], cpu="de212"), input=how.encode(),
                       capture_output=True, timeout=20)
    assert r.stdout == b"window test: ok\n", r.stderr
    assert r.returncode == 0
