"""The ESP8266 ROM's erase quirk (PROTOCOL.md 2.5): esptk erases what esptool 5.6 erases on the same
virtual chip, and says so before it erases a sector the user did not ask for."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from ..conftest import run_esptk
from ..peer.conftest import start_server

pytest.importorskip("esptool", reason="the peer check needs esptool 5.6")

BACKGROUND = random.Random(9).randbytes(0x40000)


@pytest.mark.parametrize("address,size", [(0x10000, 0x1000), (0x13000, 0x3000), (0x20000, 0x2000)])
def test_rom_write_erases_what_esptool_erases_and_says_so(tmp_path: Path, address: int, size: int) -> None:
    background = tmp_path / "background.bin"
    background.write_bytes(BACKGROUND + b"\xff" * (4 * 1024 * 1024 - len(BACKGROUND)))
    (tmp_path / "new.bin").write_bytes(b"\x5a" * size)
    theirs, ours = tmp_path / "esptool.bin", tmp_path / "esptk.bin"
    shutil.copy(background, theirs)
    shutil.copy(background, ours)
    server = start_server("esp8266", "tcp", theirs)
    try:
        server.esptool("write-flash", hex(address), str(tmp_path / "new.bin"), stub=False)
    finally:
        assert server.stop() == 0
    r = run_esptk("--port", f"sim://esp8266?flash_file={ours}", "--no-stub", "write-flash", hex(address),
                  str(tmp_path / "new.bin"))
    assert r.code == 0, r.err
    assert ours.read_bytes() == theirs.read_bytes()
    after = ours.read_bytes()
    extra = [a for a in range(0, len(BACKGROUND), 0x1000)
             if not address <= a < address + size and after[a:a + 0x1000] != BACKGROUND[a:a + 0x1000]]
    if extra:  # the ROM erased more than asked: esptk named exactly that range beforehand
        assert f"also erases 0x{extra[0]:08x}-0x{extra[-1] + 0xfff:08x}" in r.err
    else:
        assert "also erases" not in r.err


def test_rom_erase_region_names_the_extra_sector(tmp_path: Path) -> None:
    r = run_esptk("--port", "sim://esp8266", "--no-stub", "erase-region", "0x10000", "0x1000")
    assert "also erases 0x00011000-0x00011fff" in r.err
