"""Intel HEX given to write-flash / verify-flash is converted, as esptool 5.6 does: one region per
contiguous run, at the addresses stored in the file (the address given with it is not used)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from esptk.image.ihex import write_hex

from ..conftest import run_esptk
from ..peer.conftest import start_server

pytest.importorskip("esptool", reason="the peer check needs esptool 5.6")

PIECES = [(0x1000, 0x300), (0x3000, 0x200), (0x20000, 0x1800)]


def make_files(tmp_path: Path) -> tuple[Path, Path, list[tuple[int, bytes]]]:
    r = random.Random(5)
    pieces = [(a, r.randbytes(n)) for a, n in PIECES]
    hexfile = tmp_path / "app.hex"
    hexfile.write_bytes(write_hex(pieces))
    background = tmp_path / "background.bin"
    background.write_bytes(r.randbytes(0x40000) + b"\xff" * (4 * 1024 * 1024 - 0x40000))
    return hexfile, background, pieces


def test_hex_file_is_written_as_esptool_writes_it(tmp_path: Path) -> None:
    hexfile, background, pieces = make_files(tmp_path)
    theirs = tmp_path / "esptool-flash.bin"
    shutil.copy(background, theirs)
    server = start_server("esp32", "tcp", theirs)
    try:
        server.esptool("write-flash", "0x80000", str(hexfile))
    finally:
        assert server.stop() == 0
    ours = tmp_path / "esptk-flash.bin"
    shutil.copy(background, ours)
    r = run_esptk("--port", f"sim://esp32?flash_file={ours}", "write-flash", "0x80000", str(hexfile))
    assert r.code == 0, r.err
    flash = ours.read_bytes()
    assert all(flash[a:a + len(d)] == d for a, d in pieces)
    assert flash == theirs.read_bytes()

    r = run_esptk("--port", f"sim://esp32?flash_file={ours}", "verify-flash", "0", str(hexfile))
    assert r.code == 0, r.err
    assert r.out.count(": OK") == len(PIECES)


def test_hex_runs_that_share_a_sector_are_refused_before_writing(tmp_path: Path) -> None:
    hexfile = tmp_path / "bad.hex"
    hexfile.write_bytes(write_hex([(0x1000, b"\1" * 16), (0x1400, b"\2" * 16)]))
    flash = tmp_path / "flash.bin"
    r = run_esptk("--port", f"sim://esp32?flash_file={flash}", "write-flash", "0", str(hexfile))
    assert r.code == 2 and "share flash sectors" in r.err and "Traceback" not in r.err
