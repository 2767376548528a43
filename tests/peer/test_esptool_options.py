"""The options and commands esptool users type, each run by esptool 5.6 and by esptk against the same
virtual chip: the same flash bytes, or the same facts printed."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import Result, run_esptk
from .conftest import ServeFn, Server

pytest.importorskip("esptool", reason="the peer checks need esptool 5.6")
pytestmark = [pytest.mark.peer, pytest.mark.slow]

APP = 0x40000


def firmware(size: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(32)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.8 else rnd.randbytes(4) for _ in range(size // 4))


def esptk(server: Server, *args: str, cwd: Path | None = None) -> Result:
    r = run_esptk("--chip", server.chip, "--port", server.endpoint, "--before", "no_reset", "--after", "no_reset",
                  *args, cwd=cwd)
    assert r.code == 0, f"esptk {' '.join(args)} exited {r.code}:\n{r.err}"
    return r


def flash(server: Server, tmp: Path, addr: int, size: int) -> bytes:
    out = tmp / f"read-{addr:x}-{size}.bin"
    server.esptool("read-flash", hex(addr), str(size), str(out))
    return out.read_bytes()


def blank(server: Server, addr: int, size: int) -> None:
    server.esptool("erase-region", hex(addr), hex((size + 0xFFF) & ~0xFFF))


@pytest.fixture
def esp32(serve: ServeFn) -> Server:
    return serve("esp32", "tcp")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    old = firmware(40 * 1024, 1)
    new = bytearray(old)
    new[9000:9004] = b"NEW!"  # one sector differs
    paths = {"old": tmp_path / "old.bin", "new": tmp_path / "new.bin"}
    paths["old"].write_bytes(old)
    paths["new"].write_bytes(bytes(new))
    return paths


def write_both(server: Server, tmp: Path, data_path: Path, *options: str) -> tuple[bytes, bytes]:
    """Write with each tool (the region blanked first); return what flash holds after each."""
    n = data_path.stat().st_size
    blank(server, APP, n)
    server.esptool("write-flash", hex(APP), str(data_path), *options)
    theirs = flash(server, tmp, APP, n)
    blank(server, APP, n)
    esptk(server, "write-flash", hex(APP), str(data_path), *options)
    return theirs, flash(server, tmp, APP, n)


@pytest.mark.parametrize("options", [["--force"], ["-sc", "SPI"], ["--spi-connection", "HSPI"]],
                         ids=["force", "sc-spi", "sc-hspi"])
def test_write_options_accepted_same_bytes(esp32: Server, tmp_path: Path, files: dict[str, Path],
                                           options: list[str]) -> None:
    theirs, ours = write_both(esp32, tmp_path, files["new"], *options)
    assert theirs == ours == files["new"].read_bytes()


def test_skip_flashed(esp32: Server, tmp_path: Path, files: dict[str, Path]) -> None:
    esp32.esptool("write-flash", hex(APP), str(files["new"]))
    peer = esp32.esptool("write-flash", "--skip-flashed", hex(APP), str(files["new"]))
    ours = esptk(esp32, "write-flash", "--skip-flashed", hex(APP), str(files["new"]))
    assert "skipping write" in peer.stdout and "skipping write" in ours.err
    assert "Wrote" not in ours.err
    # a file that differs is written by both
    theirs, mine = write_both(esp32, tmp_path, files["old"], "--skip-flashed")
    assert theirs == mine == files["old"].read_bytes()


@pytest.mark.parametrize("trust", [False, True], ids=["checked", "trusted"])
def test_diff_with_writes_only_the_changed_sector(esp32: Server, tmp_path: Path, files: dict[str, Path],
                                                  trust: bool) -> None:
    extra = ["--trust-flash-content"] if trust else []
    results = []
    for tool in ("esptool", "esptk"):
        esp32.esptool("write-flash", hex(APP), str(files["old"]))
        args = ["write-flash", hex(APP), str(files["new"]), "--diff-with", str(files["old"]), *extra]
        out = esp32.esptool(*args).stdout if tool == "esptool" else esptk(esp32, *args).err
        results.append((out, flash(esp32, tmp_path, APP, files["new"].stat().st_size)))
    (peer_out, theirs), (our_out, ours) = results
    assert theirs == ours == files["new"].read_bytes()
    assert "1 changed sector" in peer_out
    assert re.search(r"Wrote 4096 bytes.* at 0x00042000", our_out), our_out  # sector 0x42000 only


def test_diff_with_when_flash_does_not_hold_the_old_file(esp32: Server, tmp_path: Path,
                                                         files: dict[str, Path]) -> None:
    """Without --trust-flash-content both check the flash first and write the whole file."""
    theirs, ours = write_both(esp32, tmp_path, files["new"], "--diff-with", str(files["old"]))
    assert theirs == ours == files["new"].read_bytes()


def test_read_flash_flash_size(serve: ServeFn, tmp_path: Path) -> None:
    """A 256 KB flash read whole with ALL and --flash-size: the same bytes from both."""
    small = serve("esp32", "tcp", "--flash-id", "0x1240ef")
    data = firmware(8192, 5)
    (tmp_path / "d.bin").write_bytes(data)
    small.esptool("write-flash", "0x3e000", str(tmp_path / "d.bin"))
    peer, ours = tmp_path / "peer.bin", tmp_path / "ours.bin"
    small.esptool("read-flash", "--flash-size", "256KB", "0", "ALL", str(peer))
    esptk(small, "read-flash", "--flash-size", "256KB", "0", "ALL", str(ours))
    assert peer.read_bytes() == ours.read_bytes()
    assert len(ours.read_bytes()) == 256 * 1024 and ours.read_bytes()[0x3e000:] == data


def esptool_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esptool", *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_before_no_reset_no_sync_without_chip(esp32: Server, tmp_path: Path) -> None:
    """esptool's stub is left running; each tool then reads flash without syncing and without --chip."""
    data = firmware(4096, 6)
    (tmp_path / "d.bin").write_bytes(data)
    esp32.esptool("write-flash", "0x50000", str(tmp_path / "d.bin"))
    got = []
    for tool in ("esptool", "esptk"):
        r = esptool_cmd("--port", esp32.endpoint, "--chip", "esp32", "--before", "no-reset", "--after",
                        "no-reset-stub", "chip-id")
        assert r.returncode == 0, r.stderr
        out = tmp_path / f"{tool}.bin"
        if tool == "esptool":
            r = esptool_cmd("--port", esp32.endpoint, "--before", "no-reset-no-sync", "--after", "no-reset",
                            "read-flash", "0x50000", "4096", str(out))
            assert r.returncode == 0, r.stdout + r.stderr
        else:
            ours = run_esptk("--port", esp32.endpoint, "--before", "no_reset_no_sync", "--after", "no_reset",
                             "read-flash", "0x50000", "4096", str(out))
            assert ours.code == 0, ours.err
            assert "Chip is ESP32" in ours.err
        got.append(out.read_bytes())
    assert got[0] == got[1] == data


def test_port_filter_accepted(esp32: Server) -> None:
    """With --port given, both accept --port-filter (it only narrows the automatic choice)."""
    peer = esptool_cmd("--port-filter", "vid=0x10c4", "--chip", "esp32", "--port", esp32.endpoint, "--before",
                       "no-reset", "--after", "no-reset", "read-mac")
    assert peer.returncode == 0, peer.stderr
    ours = run_esptk("--port-filter", "vid=0x10c4", "--port-filter", "name=ttyUSB", "--chip", "esp32", "--port",
                     esp32.endpoint, "--before", "no_reset", "--after", "no_reset", "read-mac")
    assert ours.code == 0, ours.err
    assert ours.out.split()[-1] in peer.stdout
    bad = run_esptk("--port-filter", "colour=red", "--port", esp32.endpoint, "read-mac")
    assert bad.code == 2 and "--port-filter" in bad.err


@pytest.mark.parametrize("value", ["1.8V", "1.9V", "OFF"])
def test_override_vddsdio_writes_the_same_register_word(esp32: Server, value: str) -> None:
    peer = esptool_cmd("--chip", "esp32", "--port", esp32.endpoint, "--before", "no-reset", "--after", "no-reset",
                       "--no-stub", "--trace", "--override-vddsdio", value, "read-mac")
    assert peer.returncode == 0, peer.stderr
    m = re.search(r"WRITE_REG \(0x09\).*data 7480f43f([0-9a-f]{8})", peer.stdout)
    assert m, peer.stdout[-2000:]
    ours = run_esptk("--chip", "esp32", "--port", esp32.endpoint, "--before", "no_reset", "--after", "no_reset",
                     "--no-stub", "--trace", "--override-vddsdio", value, "read-mac")
    assert ours.code == 0, ours.err
    assert f"74 80 f4 3f {' '.join(m.group(1)[i:i + 2] for i in range(0, 8, 2))} ff ff ff ff" in ours.err
    assert f"VDDSDIO regulator set to {value}." in peer.stdout and f"VDDSDIO regulator set to {value}." in ours.err


@pytest.mark.parametrize("args", [["read-flash-status", "--bytes", "1"], ["read-flash-status", "--bytes", "2"],
                                  ["read-flash-status", "--bytes", "3"], ["read-flash-sfdp", "0", "4"],
                                  ["write-flash-status", "--bytes", "2", "0x0200"]],
                         ids=["status1", "status2", "status3", "sfdp", "write-status"])
def test_flash_status_and_sfdp_same_facts(esp32: Server, args: list[str]) -> None:
    peer = esp32.esptool(*args).stdout
    ours = esptk(esp32, *args).out
    facts = [ln.strip() for ln in ours.splitlines() if ln.startswith(("Flash memory", "Initial", "Setting", "After"))]
    assert facts, ours
    for fact in facts:
        assert fact in peer, (fact, peer)


def test_config_file_read_by_both(esp32: Server, tmp_path: Path, files: dict[str, Path]) -> None:
    """An esptool.cfg with timeouts and connect attempts in the working directory: both read it."""
    (tmp_path / "esptool.cfg").write_text("[esptool]\ntimeout = 5\nmax_timeout = 60\nconnect_attempts = 3\n"
                                          "erase_write_timeout_per_mb = 50\n")
    blank(esp32, APP, 0x10000)
    r = subprocess.run([sys.executable, "-m", "esptool", "--chip", "esp32", "--port", esp32.endpoint, "--before",
                        "no-reset", "--after", "no-reset", "write-flash", hex(APP), str(files["old"])],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0 and "Loaded custom configuration from" in r.stdout, r.stdout
    theirs = flash(esp32, tmp_path, APP, files["old"].stat().st_size)
    blank(esp32, APP, 0x10000)
    ours = esptk(esp32, "write-flash", hex(APP), str(files["old"]), cwd=tmp_path)
    assert "warning" not in ours.err
    assert theirs == flash(esp32, tmp_path, APP, files["old"].stat().st_size) == files["old"].read_bytes()
    (tmp_path / "esptool.cfg").write_text("[esptool]\ntimeout = soon\n")
    bad = run_esptk("--chip", "esp32", "--port", esp32.endpoint, "version", cwd=tmp_path)
    assert bad.code == 2 and "timeout = 'soon' is not a number" in bad.err and "Traceback" not in bad.err
