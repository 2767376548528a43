"""Input files that are not regular files, and virtual-chip flash files that could never be saved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import run_esptk
from .test_bad_input import NOPORT, usage_error

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def _commands(path: str) -> dict[str, list[str]]:
    return {
        "write-flash": [*NOPORT, "write-flash", "0x10000", path],
        "verify-flash": [*NOPORT, "verify-flash", "0x10000", path],
        "load-ram": [*NOPORT, "load-ram", path],
        "image-info": ["--chip", "esp32", "image-info", path],
        "elf2image": ["--chip", "esp32", "elf2image", "-o", "out.bin", path],
        "merge-bin": ["--chip", "esp32", "merge-bin", "-o", "out.bin", "0x1000", path],
        "make-image": ["--chip", "esp8266", "make-image", "-f", path, "-a", "0x40100000", "out.bin"],
        "argfile": [f"@{path}", "version"],
    }


@pytest.mark.parametrize("command", list(_commands("x")))
def test_a_fifo_is_refused_instead_of_waiting_forever(fifo: Path, tmp_path: Path, command: str) -> None:
    # a separate process with a timeout: the bug this pins is a hang
    r = run_esptk(*_commands(str(fifo))[command], timeout=60, cwd=tmp_path)
    usage_error(r, "not a regular file")
    assert not (tmp_path / "out.bin").exists()


def test_a_device_that_never_ends_is_refused(tmp_path: Path) -> None:
    usage_error(run_esptk(*NOPORT, "write-flash", "0x10000", "/dev/zero", timeout=60), "not a regular file")


@pytest.mark.parametrize("where", ["nodir/flash.img", "f.bin/flash.img", "folder"])
def test_sim_flash_file_that_cannot_be_saved_is_refused_at_open(tmp_path: Path, where: str) -> None:
    (tmp_path / "f.bin").write_bytes(b"x" * 16)
    (tmp_path / "folder").mkdir()
    path = tmp_path / where
    r = run_esptk("--port", f"sim://esp32?flash_file={path}", "write-flash", "0x10000", str(tmp_path / "f.bin"))
    assert r.code == 2 and "Traceback" not in r.err and "internal error" not in r.err
    assert "flash file" in r.err and "hint:" in r.err
    assert "Wrote" not in r.err  # refused at open: nothing was written that could not be kept


def test_sim_serve_refuses_an_unusable_flash_file_at_once(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "esptk", "sim", "serve", "--chip", "esp32", "--tcp", "127.0.0.1:0",
                        "--flash-file", str(tmp_path / "nodir" / "flash.img")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "flash file" in p.stderr and "Traceback" not in p.stderr
    assert "listening" not in p.stdout + p.stderr
