"""esptk under esptool's names, called the three ways build tools call esptool, on the virtual chip."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT
from .conftest import CompatEnv, sim_port

pytestmark = pytest.mark.slow

COMPAT_SRC = ROOT / "plugins" / "esptool-compat" / "src"


def firmware(size: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(32)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.8 else rnd.randbytes(4) for _ in range(size // 4))


def flash_args(port: str, app: Path) -> list[str]:
    # the form of the ESP8266 Arduino core's upload.py and PlatformIO (esptool 3/4 spellings)
    return ["--chip", "esp32", "--port", port, "--baud", "460800", "--before", "default_reset",
            "--after", "hard_reset", "write_flash", "-z", "--flash_mode", "dio", "--flash_freq", "40m",
            "--flash_size", "detect", "0x10000", str(app)]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    p = tmp_path / "app.bin"
    p.write_bytes(firmware(96 * 1024, 7))
    return p


def written(flash: Path, app: Path) -> bool:
    data = app.read_bytes()
    return flash.read_bytes()[0x10000 : 0x10000 + len(data)] == data


def test_esptool_py_by_path(compat: CompatEnv, tmp_path: Path, app: Path) -> None:
    """PlatformIO: `python .../esptool.py ARGS`."""
    flash = tmp_path / "flash.bin"
    r = compat.run(compat.python, str(compat.bin / "esptool.py"), *flash_args(sim_port("esp32", flash), app))
    assert r.returncode == 0, r.stderr
    assert written(flash, app)


def test_executable_on_path_logs_like_esptool(compat: CompatEnv, tmp_path: Path, app: Path) -> None:
    """Arduino IDE: `esptool ARGS` found on PATH, its stdout read through a pipe."""
    flash = tmp_path / "flash.bin"
    r = compat.run("esptool", *flash_args(sim_port("esp32", flash), app), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert written(flash, app)
    lines = r.stdout.splitlines()
    progress = [x for x in lines if x.startswith("Writing at 0x")]
    assert len(progress) >= 2 and progress[-1].split()[2] == f"0x{0x10000 + 96 * 1024:08x}"
    assert "100.0%" in progress[-1] and f"{96 * 1024}/{96 * 1024} bytes" in progress[-1]
    assert any(x.startswith("Wrote 98304 bytes (") and "compressed) at 0x00010000" in x for x in lines)
    tail = lines[lines.index(progress[-1]) + 1 :]
    assert [x for x in tail if not x.startswith("Wrote")] == ["Hash of data verified.", "Leaving...",
                                                              "Hard resetting via RTS pin..."]


def test_import_and_call_main_in_process(compat: CompatEnv, tmp_path: Path, app: Path) -> None:
    """ESPHome / the ESP8266 Arduino core's upload.py: `import esptool; esptool.main(argv)`, twice in one
    process, then an error the caller catches as esptool.FatalError, then a bad command line."""
    flash = tmp_path / "flash.bin"
    args = flash_args(sim_port("esp32", flash), app)
    code = f"""
import esptool
args = {args!r}
assert esptool.main(args) is None
assert esptool.main(args) is None
try:
    esptool.main(["--port", "socket://127.0.0.1:1", "--connect-attempts", "1", "read_mac"])
except esptool.FatalError as e:
    print("FATAL", e)
try:
    esptool.main(["no_such_command"])
except SystemExit as e:
    print("EXIT", e.code)
print("STILL HERE")
"""
    r = compat.run(compat.python, "-c", code, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert written(flash, app)
    assert "FATAL nothing listens at socket://127.0.0.1:1" in r.stdout
    assert "EXIT 2" in r.stdout and "STILL HERE" in r.stdout


@pytest.mark.parametrize(("args", "fatal"), [
    (["--port", "socket://127.0.0.1:1", "--connect-attempts", "1", "read_mac"], True),  # operational failure
    (["--chip", "esp32", "no_such_command"], False),  # usage error
    (["--chip", "esp32", "write_flash", "0x1000"], False),  # incomplete pairs
    (["version"], False),
], ids=["no-port", "bad-command", "odd-pairs", "version"])
def test_exit_codes_are_esptools(compat: CompatEnv, tmp_path: Path, args: list[str], fatal: bool) -> None:
    """The exit code a caller sees is the real esptool's (run from the test environment as a peer)."""
    pytest.importorskip("esptool")
    ours = compat.run("esptool", *args, cwd=tmp_path)
    peer = subprocess.run([sys.executable, "-m", "esptool", *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert ours.returncode == peer.returncode, (ours.stderr, peer.stderr)
    assert "Traceback" not in ours.stderr
    if fatal:
        assert "A fatal error occurred:" in ours.stderr
    elif ours.returncode:
        assert "error" in ours.stderr.lower()


def test_version_prints_the_esptool_version_last_as_esptool_does(compat: CompatEnv, tmp_path: Path) -> None:
    """Scripts read the last line of `esptool version` (esptool 5.6: `esptool v5.6.0`, then `5.6.0`)."""
    pytest.importorskip("esptool")
    ours = compat.run("esptool", "version", cwd=tmp_path)
    peer = subprocess.run([sys.executable, "-m", "esptool", "version"], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert ours.returncode == peer.returncode == 0, ours.stderr
    assert ours.stdout.splitlines()[-1] == peer.stdout.splitlines()[-1]
    assert ours.stdout.startswith(peer.stdout.splitlines()[0]) and "esptk" in ours.stdout.splitlines()[0]


def test_espefuse_and_espsecure_forward(compat: CompatEnv, tmp_path: Path) -> None:
    """They run `esptk efuse` / `esptk secure`: either that command answers, or it fails clearly."""
    for tool, group in (("espefuse", "efuse"), ("espsecure", "secure")):
        r = compat.run(tool, "--help", cwd=tmp_path)
        assert "Traceback" not in r.stderr
        assert r.returncode == 0 or f"No such command '{group}'" in r.stderr, r.stderr


def test_refuses_beside_the_real_esptool(tmp_path: Path) -> None:
    """In the test environment the real esptool is installed: the compat package says so and stops."""
    pytest.importorskip("esptool")
    env = {**os.environ, "PYTHONPATH": str(COMPAT_SRC)}
    code = "import esptool\ntry:\n    esptool.main(['version'])\nexcept esptool.FatalError as e:\n    print(e)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                       cwd=tmp_path)
    assert "the real esptool 5.6.0 is installed" in r.stdout and "refusing to run" in r.stdout, r.stdout + r.stderr
