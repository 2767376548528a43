"""Smaller defects users met: run on ESP32, file modes, --flash-size beyond the chip, Ctrl-C."""

from __future__ import annotations

import os
import pty
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import read_pty_to_end, run_esptk


@pytest.mark.parametrize("chip", ["esp32", "esp8266"])
@pytest.mark.parametrize("stub", [True, False], ids=["stub", "rom"])
def test_run_leaves_the_loader_on_both_chips(chip: str, stub: bool) -> None:
    r = run_esptk("--port", f"sim://{chip}", *([] if stub else ["--no-stub"]), "run")
    assert r.code == 0, r.err
    assert "Running the application" in r.err


def test_read_flash_keeps_the_mode_of_a_replaced_file_and_honours_the_umask(tmp_path: Path) -> None:
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"old")
    os.chmod(kept, 0o644)
    r = run_esptk("--port", "sim://esp32", "read-flash", "0", "0x100", str(kept))
    assert r.code == 0, r.err
    assert stat.S_IMODE(kept.stat().st_mode) == 0o644 and len(kept.read_bytes()) == 0x100

    fresh = tmp_path / "fresh.bin"
    p = subprocess.run([sys.executable, "-c", "import os, sys; os.umask(0o027); from esptk.cli import main; "
                        "sys.exit(main(sys.argv[1:]))", "--port", "sim://esp32", "read-flash", "0", "0x100",
                        str(fresh)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640


def test_flash_size_larger_than_the_chip_warns_and_names_the_cause(tmp_path: Path) -> None:
    image = tmp_path / "app.bin"
    image.write_bytes(b"\x11" * 0x2000)
    r = run_esptk("--port", "sim://esp32", "write-flash", "--flash-size", "16MB", "0x10000", str(image))
    assert r.code == 0, r.err
    assert "--flash-size 16MB is larger than the detected 4MB flash" in r.err
    r = run_esptk("--port", "sim://esp32", "write-flash", "--flash-size", "16MB", "0x800000", str(image))
    assert r.code == 1 and "Traceback" not in r.err
    assert "ends past the detected 4MB flash" in r.err and "check the link" not in r.err


def test_ctrl_c_ends_the_progress_line_and_says_aborted(tmp_path: Path) -> None:
    image = tmp_path / "big.bin"
    image.write_bytes(os.urandom(2_000_000))
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "esptk", "-p", "sim://esp32?timing=1", "write-flash", "0x10000",
                          str(image)], stdin=slave, stdout=slave, stderr=slave,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                         env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"Writing at" not in seen and time.monotonic() < deadline:  # wait for the progress bar
        if select.select([master], [], [], 0.2)[0]:
            seen += os.read(master, 65536)
    p.send_signal(signal.SIGINT)
    seen += read_pty_to_end(master, p)
    assert p.wait(30) == 130
    os.close(master)
    tail = seen[seen.rfind(b"Writing at"):]
    assert tail.rstrip().endswith(b"Aborted")
    assert b"\x1b[?25h" in tail  # the cursor the progress bar hid is shown again
