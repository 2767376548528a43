"""Configuration files in the working directory, read by esptool 5.6 and by esptk against the same kind of
virtual chip (``esptk sim serve``): ``setup.cfg`` and ``tox.ini`` with an ``[esptool]`` section, which
both read; ``esptk.cfg``, which only esptk reads; the order of the files; ``timeout`` and ``sync_timeout``
on a chip told to stop answering (``--hang-at``), and ``custom_hard_reset_sequence``.

Over TCP neither tool can reset the chip, so what a reset sequence does to a board is in
tests/cli/test_config_files.py (the in-process sim:// port models DTR/RTS)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..conftest import Result, run_esptk
from .conftest import ServeFn, Server, start_server

pytest.importorskip("esptool", reason="the peer checks need esptool 5.6")
pytestmark = [pytest.mark.peer, pytest.mark.slow]

HANG_AFTER_SYNC = 120  #: bytes: the chip stops answering while either tool reads registers after SYNC
OTHER_SECTIONS = {
    "setup.cfg": "[metadata]\nname = blink\n\n[flake8]\nmax-line-length = 120\n\n",
    "tox.ini": "[tox]\nenvlist = py311\n\n[testenv]\ncommands = pytest {posargs}\n\n",
}
#: esptool's classic reset into the loader, used as the hard reset after the command
INTO_LOADER = "D0|R1|W0.1|D1|R0|W0.05|D0"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path


def env_for(workdir: Path) -> dict[str, str]:
    """No configuration from the environment or from the user's folders: only the working directory's."""
    home = workdir / "home"
    keep = {k: v for k, v in os.environ.items() if k not in ("ESPTOOL_CFGFILE", "ESPTK_CFGFILE")}
    return {**keep, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "NO_COLOR": "1"}


def write_config(workdir: Path, name: str, settings: str, section: str = "esptool") -> Path:
    path = workdir / name
    path.write_text(OTHER_SECTIONS.get(name, "") + f"[{section}]\n{settings}\n", encoding="utf-8")
    return path


def clear(workdir: Path) -> None:
    for name in ("esptk.cfg", "esptool.cfg", "setup.cfg", "tox.ini"):
        (workdir / name).unlink(missing_ok=True)


def esptool(workdir: Path, server: Server, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "esptool", "--chip", server.chip, "--port", server.endpoint, *args],
                       capture_output=True, text=True, timeout=120, cwd=workdir, env=env_for(workdir),
                       stdin=subprocess.DEVNULL)
    return r, time.monotonic() - t0


def esptk(workdir: Path, server: Server, *args: str) -> tuple[Result, float]:
    t0 = time.monotonic()
    r = run_esptk("--chip", server.chip, "--port", server.endpoint, *args, cwd=workdir, env=env_for(workdir))
    return r, time.monotonic() - t0


@contextmanager
def chip_that_hangs(workdir: Path, after: int) -> Iterator[Server]:
    """A fresh virtual chip that stops answering after receiving ``after`` bytes (one per run: the count
    goes on across clients, so a second client would find it answering again)."""
    server = start_server("esp32", "tcp", workdir / "hung-flash.bin", "--hang-at", str(after))
    try:
        yield server
    finally:
        server.stop()


def loaded(path: Path) -> str:
    return f"Loaded custom configuration from {path}"


@pytest.mark.parametrize("name", ["setup.cfg", "tox.ini"])
def test_setup_cfg_and_tox_ini_timeout_read_by_both(workdir: Path, name: str) -> None:
    """``timeout`` in the file is how long each tool waits for a reply from a chip that stopped answering:
    esptool 5.6 waits at least 5 s with timeout = 5 and gives up seconds sooner with 0.3; esptk says it
    waited 0.3 s."""
    path = write_config(workdir, name, "timeout = 0.3")
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        short, short_took = esptool(workdir, server, "--no-stub", "read-mac")
    assert short.returncode == 2 and loaded(path) in short.stdout, short.stdout + short.stderr
    path = write_config(workdir, name, "timeout = 5")
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        long, long_took = esptool(workdir, server, "--no-stub", "read-mac")
    assert long.returncode == 2 and loaded(path) in long.stdout, long.stdout + long.stderr
    assert long_took >= 5 and short_took < long_took - 3, (short_took, long_took)
    write_config(workdir, name, "timeout = 0.3")
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        ours, _ = esptk(workdir, server, "--no-stub", "read-mac")
    assert ours.code == 1 and "within 0.3 s" in ours.err and "Traceback" not in ours.err, ours.err


def test_esptk_cfg_is_read_by_esptk_only(workdir: Path) -> None:
    """esptool 5.6 does not know esptk.cfg: it keeps its default 3 s timeout. esptk reads the file."""
    write_config(workdir, "esptk.cfg", "timeout = 0.3")
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        theirs, took = esptool(workdir, server, "--no-stub", "read-mac")
    assert theirs.returncode == 2 and "Loaded custom configuration" not in theirs.stdout, theirs.stdout
    assert took >= 3, took
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        ours, _ = esptk(workdir, server, "--no-stub", "read-mac")
    assert ours.code == 1 and "within 0.3 s" in ours.err, ours.err


def test_esptool_cfg_comes_before_setup_cfg_and_tox_ini_in_both(workdir: Path) -> None:
    """The first file with an [esptool] section counts; a setup.cfg without one is passed over."""
    (workdir / "setup.cfg").write_text(OTHER_SECTIONS["setup.cfg"], encoding="utf-8")  # no [esptool]
    write_config(workdir, "tox.ini", "timeout = 0.3")
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        theirs, _ = esptool(workdir, server, "--no-stub", "read-mac")
    assert loaded(workdir / "tox.ini") in theirs.stdout, theirs.stdout
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        ours, _ = esptk(workdir, server, "--no-stub", "read-mac")
    assert "within 0.3 s" in ours.err, ours.err
    first = write_config(workdir, "esptool.cfg", "timeout = 0.4")
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        theirs, _ = esptool(workdir, server, "--no-stub", "read-mac")
    assert loaded(first) in theirs.stdout, theirs.stdout
    with chip_that_hangs(workdir, HANG_AFTER_SYNC) as server:
        ours, _ = esptk(workdir, server, "--no-stub", "read-mac")
    assert "within 0.4 s" in ours.err, ours.err


def test_sync_timeout_read_by_both(workdir: Path) -> None:
    """A chip that never answers, one connect attempt of 5 SYNCs: with sync_timeout = 0.5 each tool
    takes at least 2.5 s, seconds longer than with the default 0.1 s."""
    took: dict[tuple[str, str], float] = {}
    for settings in ("connect_attempts = 1", "connect_attempts = 1\nsync_timeout = 0.5"):
        path = write_config(workdir, "setup.cfg", settings)
        with chip_that_hangs(workdir, 1) as server:
            theirs, took["esptool", settings] = esptool(workdir, server, "--before", "no-reset", "read-mac")
        assert theirs.returncode == 2 and "No serial data received" in theirs.stdout + theirs.stderr
        assert loaded(path) in theirs.stdout
        with chip_that_hangs(workdir, 1) as server:
            ours, took["esptk", settings] = esptk(workdir, server, "--before", "no_reset", "read-mac")
        assert ours.code == 1 and "attempt 1 failed" in ours.err and "attempt 2" not in ours.err, ours.err
    for tool in ("esptool", "esptk"):
        quick, slow = took[tool, "connect_attempts = 1"], took[tool, "connect_attempts = 1\nsync_timeout = 0.5"]
        assert slow >= 2.5 and slow > quick + 1.2, (tool, quick, slow)


def test_custom_hard_reset_sequence_read_by_both(workdir: Path, serve: ServeFn) -> None:
    """Both accept the key and finish the command; esptool 5.6 says it ran the sequence (over TCP the
    control lines go nowhere, and esptk, seeing a link without them, resets nothing)."""
    server = serve("esp32", "tcp")
    for name in ("setup.cfg", "tox.ini"):
        clear(workdir)
        path = write_config(workdir, name, f"custom_hard_reset_sequence = {INTO_LOADER}")
        theirs, _ = esptool(workdir, server, "--after", "hard-reset", "read-mac")
        assert theirs.returncode == 0 and loaded(path) in theirs.stdout, theirs.stdout + theirs.stderr
        assert f"Custom reset sequence executed: {INTO_LOADER}" in theirs.stdout, theirs.stdout
        ours, _ = esptk(workdir, server, "--after", "hard_reset", "read-mac")
        assert ours.code == 0 and "warning" not in ours.err.lower() and "Traceback" not in ours.err, ours.err
        assert ours.out.split()[-1] in theirs.stdout  # the same MAC
        logged, _ = esptk(workdir, server, "--log-format", "esptool", "--after", "hard_reset", "read-mac")
        assert f"Custom reset sequence executed: {INTO_LOADER}" in logged.out, logged.out
        assert "Hard resetting via RTS pin" not in logged.out
    write_config(workdir, "setup.cfg", "custom_hard_reset_sequence = D1|Q0")
    bad, _ = esptk(workdir, server, "read-mac")
    assert bad.code == 2 and "bad reset step 'Q0'" in bad.err
