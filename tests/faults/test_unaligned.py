"""A file that does not start a 4 KiB sector: the erased range is named before writing, and bytes
of that sector outside the file are not lost unless the user says --force."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ..conftest import run_esptk

OLD = random.Random(7).randbytes(0x1000)


def flash_with_old_sector(tmp_path: Path) -> Path:
    flash = tmp_path / "flash.bin"
    flash.write_bytes(b"\xff" * 0x10000 + OLD + b"\xff" * (4 * 1024 * 1024 - 0x11000))
    return flash


@pytest.mark.parametrize("stub", [True, False], ids=["stub", "rom"])
def test_unaligned_write_over_data_is_refused_without_force(tmp_path: Path, stub: bool) -> None:
    flash = flash_with_old_sector(tmp_path)
    (tmp_path / "small.bin").write_bytes(b"\x42" * 100)
    args = ["--port", f"sim://esp32?flash_file={flash}", *([] if stub else ["--no-stub"])]
    r = run_esptk(*args, "write-flash", "0x10100", str(tmp_path / "small.bin"))
    assert r.code == 2 and "Traceback" not in r.err
    assert "0x00010000-0x00010fff is erased" in r.err and "--force" in r.err
    assert flash.read_bytes()[0x10000:0x11000] == OLD  # nothing lost

    r = run_esptk(*args, "write-flash", "--force", "0x10100", str(tmp_path / "small.bin"))
    assert r.code == 0, r.err
    assert "0x00010000-0x00010fff is erased" in r.err
    assert flash.read_bytes()[0x10000:0x11000] == b"\xff" * 0x100 + b"\x42" * 100 + b"\xff" * (0x1000 - 0x164)


def test_unaligned_write_into_an_empty_sector_needs_no_force(tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    (tmp_path / "small.bin").write_bytes(b"\x42" * 100)
    r = run_esptk("--port", f"sim://esp32?flash_file={flash}", "write-flash", "0x10100", str(tmp_path / "small.bin"))
    assert r.code == 0, r.err
    assert "0x00010000-0x00010fff is erased" in r.err


def test_esp8266_rom_cannot_check_so_it_asks_for_force(tmp_path: Path) -> None:
    flash = flash_with_old_sector(tmp_path)
    (tmp_path / "small.bin").write_bytes(b"\x42" * 100)
    r = run_esptk("--port", f"sim://esp8266?flash_file={flash}", "--no-stub", "write-flash", "0x10100",
                  str(tmp_path / "small.bin"))
    assert r.code == 2 and "cannot check" in r.err and "--force" in r.err
    assert flash.read_bytes()[0x10000:0x11000] == OLD
