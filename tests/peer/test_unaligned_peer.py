"""Writes at addresses esptool takes and esptk used to refuse, against esptool 5.6 on the same chip:
an address that is not a multiple of 4, and (run as ``esptool``, the compat entry points) a file
whose sector holds other data."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import run_esptk
from .conftest import ServeFn, Server

pytest.importorskip("esptool", reason="the peer checks need esptool 5.6")
pytestmark = [pytest.mark.peer, pytest.mark.slow]

SECTOR = 0x1000


def read(server: Server, tmp: Path, addr: int) -> bytes:
    out = tmp / f"sector-{addr:x}.bin"
    server.esptool("read-flash", hex(addr), hex(SECTOR), str(out))
    return out.read_bytes()


def fill(server: Server, tmp: Path, addr: int, data: bytes) -> None:
    """Put ``data`` (one sector) at ``addr`` with esptool."""
    path = tmp / "old.bin"
    path.write_bytes(data)
    server.esptool("write-flash", hex(addr), str(path))


def as_esptool(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """esptk run as the compat package runs it (``esptool.main``: program name esptool)."""
    code = ("import sys; from esptk.cli import main; "
            "sys.exit(main(sys.argv[1:], prog='esptool', log_format='esptool'))")
    return subprocess.run([sys.executable, "-c", code, "--chip", server.chip, "--port", server.endpoint,
                           "--before", "no_reset", "--after", "no_reset", *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


# (the ESP8266 ROM cannot read flash, so esptk asks for --force there: tests/faults/test_unaligned.py)
@pytest.mark.parametrize(("chip", "stub"), [("esp32", True), ("esp32", False), ("esp8266", True)],
                         ids=["esp32-stub", "esp32-rom", "esp8266-stub"])
@pytest.mark.parametrize("addr", [0x10102, 0x10FFD, 0x10001])
def test_an_address_that_is_not_a_multiple_of_4_is_written_as_esptool_writes_it(
        serve: ServeFn, tmp_path: Path, chip: str, stub: bool, addr: int) -> None:
    server = serve(chip, "tcp")
    small = tmp_path / "small.bin"
    small.write_bytes(random.Random(addr).randbytes(101))
    start = addr - addr % SECTOR
    end = addr + 101
    sectors = [a for a in (start, start + SECTOR) if a < end]
    images = {}
    for tool in ("esptool", "esptk"):
        for a in sectors:
            fill(server, tmp_path, a, b"\xff" * SECTOR)  # empty: esptk writes without --force
        if tool == "esptool":
            server.esptool("write-flash", hex(addr), str(small), stub=stub)
        else:
            r = run_esptk("--chip", chip, "--port", server.endpoint, "--before", "no_reset", "--after", "no_reset",
                          *([] if stub else ["--no-stub"]), "write-flash", hex(addr), str(small))
            assert r.code == 0, r.err
            assert "is not at the start of a 4 KiB sector" in r.err
        images[tool] = b"".join(read(server, tmp_path, a) for a in sectors)
    assert images["esptk"] == images["esptool"]
    assert images["esptk"][addr - start: addr - start + 101] == small.read_bytes()


def test_run_as_esptool_an_unaligned_file_erases_its_sector_as_esptool_does(serve: ServeFn, tmp_path: Path) -> None:
    """esptk's own command refuses (the sector holds other data); the esptool entry point writes
    with a note on the sector it erases, and the flash ends as esptool 5.6 leaves it."""
    server = serve("esp32", "tcp")
    old = random.Random(3).randbytes(SECTOR)
    small = tmp_path / "small.bin"
    small.write_bytes(b"\x42" * 100)
    fill(server, tmp_path, 0x20000, old)
    server.esptool("write-flash", "0x20100", str(small))
    theirs = read(server, tmp_path, 0x20000)

    fill(server, tmp_path, 0x20000, old)
    r = run_esptk("--chip", "esp32", "--port", server.endpoint, "--before", "no_reset", "--after", "no_reset",
                  "write-flash", "0x20100", str(small))
    assert r.code == 2 and "--force" in r.err
    assert read(server, tmp_path, 0x20000) == old  # esptk's own semantics: nothing lost

    p = as_esptool(server, "write-flash", "0x20100", str(small))
    assert p.returncode == 0, p.stderr
    assert "0x00020000-0x00020fff is erased" in p.stderr
    assert "Hash of data verified." in p.stdout
    assert read(server, tmp_path, 0x20000) == theirs
    assert theirs == b"\xff" * 0x100 + b"\x42" * 100 + b"\xff" * (SECTOR - 0x164)
