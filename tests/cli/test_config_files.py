"""The configuration files esptool users keep in their project folder, as esptk reads them: ``esptk.cfg``,
``esptool.cfg``, ``setup.cfg`` and ``tox.ini`` (an ``[esptool]`` or ``[esptk]`` section) in the working
directory, each with a setting whose effect a user sees: connect attempts with a custom reset sequence,
``timeout`` on a chip that stops answering, ``custom_hard_reset_sequence`` (what the board does after
the command). tests/peer/test_config_peer.py holds the same files run by esptool 5.6."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..conftest import Result, run_esptk

if TYPE_CHECKING:
    from esptk_sim.engine import VirtualChip

Cli = Callable[..., Result]

#: a custom reset that pulses EN but never pulls GPIO0 low: the chip boots its app, never the loader
NO_BOOT_PIN = "R1|W0.1|R0"
#: a hard reset (``--after hard_reset``) that holds GPIO0 low while EN rises (esptool's classic reset
#: into the loader): the board stays in the ROM loader ("waiting for download") instead of running the
#: app just written
INTO_LOADER = "D0|R1|W0.1|D1|R0|W0.05|D0"
#: what other tools keep in the same files (a project's setup.cfg, tox.ini)
OTHER_SECTIONS = {
    "setup.cfg": "[metadata]\nname = blink\nversion = 1.0\n\n[flake8]\nmax-line-length = 120\n\n",
    "tox.ini": "[tox]\nenvlist = py311\n\n[testenv]\ncommands = pytest {posargs}\n\n",
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory, and no configuration from the environment or the user's folders."""
    monkeypatch.chdir(tmp_path)
    for var in ("ESPTK_CFGFILE", "ESPTOOL_CFGFILE"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return tmp_path


def write_config(folder: Path, name: str, settings: str, section: str = "esptool") -> Path:
    path = folder / name
    path.write_text(OTHER_SECTIONS.get(name, "") + f"[{section}]\n{settings}\n", encoding="utf-8")
    return path


def sim(folder: Path, *options: str) -> str:
    return f"sim://esp32?flash_file={folder / 'flash.bin'}" + "".join(f"&{o}" for o in options)


@pytest.mark.parametrize(("name", "section"), [("esptk.cfg", "esptk"), ("esptk.cfg", "esptool"),
                                               ("esptool.cfg", "esptool"), ("setup.cfg", "esptool"),
                                               ("tox.ini", "esptool")],
                         ids=["esptk.cfg-esptk", "esptk.cfg-esptool", "esptool.cfg", "setup.cfg", "tox.ini"])
def test_each_config_file_in_the_working_directory_is_read(cli: Cli, workdir: Path, name: str,
                                                           section: str) -> None:
    """Without a file, esptk connects. With one whose reset never pulls GPIO0 low, it tries exactly the
    file's connect_attempts (2, not the default 7) and reports that the chip booted normally."""
    assert cli("--port", sim(workdir), "read-mac").code == 0
    write_config(workdir, name, f"custom_reset_sequence = {NO_BOOT_PIN}\nconnect_attempts = 2", section)
    r = cli("--port", sim(workdir), "read-mac")
    assert r.code == 1, r.err
    assert "attempt 2 failed" in r.err and "attempt 3" not in r.err, r.err
    assert "wrong boot mode" in r.err and "not in download mode" in r.err, r.err
    assert "Traceback" not in r.err and "warning" not in r.err.lower()


def test_a_file_without_the_section_is_passed_over(cli: Cli, workdir: Path) -> None:
    """A project's setup.cfg without an [esptool] section does not hide the tox.ini that has one."""
    (workdir / "setup.cfg").write_text(OTHER_SECTIONS["setup.cfg"], encoding="utf-8")
    write_config(workdir, "tox.ini", "connect_attempts = 1\ncustom_reset_sequence = " + NO_BOOT_PIN)
    r = cli("--port", sim(workdir), "read-mac")
    assert r.code == 1 and "attempt 1 failed" in r.err and "attempt 2" not in r.err, r.err


def test_the_first_file_wins(cli: Cli, workdir: Path) -> None:
    """esptk.cfg before esptool.cfg before setup.cfg before tox.ini (esptool's order, esptk.cfg first):
    only the first file with a section counts, nothing is merged from the others."""
    write_config(workdir, "tox.ini", "connect_attempts = 1\ncustom_reset_sequence = " + NO_BOOT_PIN)
    write_config(workdir, "setup.cfg", "connect_attempts = 3")
    r = cli("--port", sim(workdir), "read-mac")  # setup.cfg: the default reset, which works
    assert r.code == 0, r.err
    write_config(workdir, "esptool.cfg", "connect_attempts = 2\ncustom_reset_sequence = " + NO_BOOT_PIN)
    r = cli("--port", sim(workdir), "read-mac")
    assert r.code == 1 and "attempt 2 failed" in r.err and "attempt 3" not in r.err, r.err
    write_config(workdir, "esptk.cfg", "timeout = 4", section="esptk")
    assert cli("--port", sim(workdir), "read-mac").code == 0


def test_a_broken_unrelated_setup_cfg_is_passed_over(cli: Cli, workdir: Path) -> None:
    (workdir / "setup.cfg").write_text("[metadata]\nname = a\nname = b\n", encoding="utf-8")  # a duplicate key
    write_config(workdir, "tox.ini", "connect_attempts = 1\ncustom_reset_sequence = " + NO_BOOT_PIN)
    r = cli("--port", sim(workdir), "read-mac")
    assert r.code == 1 and "attempt 1 failed" in r.err, r.err  # tox.ini was read
    assert "ignoring" in r.err and "setup.cfg" in r.err and "not a valid INI file" in r.err


def test_a_percent_sign_in_a_value_is_taken_as_written(cli: Cli, workdir: Path) -> None:
    """esptool reads its files without interpolation: a '%' is not a syntax error."""
    (workdir / "setup.cfg").write_text("[tool:pytest]\naddopts = -p no:cacheprovider %(here)s 100%\n\n"
                                       "[esptool]\nnote = flashed at 100%\nconnect_attempts = 1\n"
                                       "custom_reset_sequence = " + NO_BOOT_PIN + "\n", encoding="utf-8")
    r = cli("--port", sim(workdir), "read-mac")
    assert r.code == 1 and "attempt 1 failed" in r.err and "internal error" not in r.err, r.err
    assert "unknown option 'note' ignored" in r.err


@pytest.fixture
def last_chip(monkeypatch: pytest.MonkeyPatch) -> list[VirtualChip]:
    """The virtual chip of each sim:// port esptk closes (to see what the board does after esptk)."""
    from esptk_sim.transport import SimTransport

    chips: list[VirtualChip] = []
    real = SimTransport.close

    def keep(self: SimTransport) -> None:
        if self.chip is not None:
            chips.append(self.chip)
        real(self)

    monkeypatch.setattr(SimTransport, "close", keep)
    return chips


def boots_into(chip: VirtualChip) -> str:
    """What the board prints in the second after esptk let go of it (its boot log)."""
    return chip.poll(chip.now + 1.0).decode("latin-1")


def test_custom_hard_reset_sequence_is_what_the_board_gets(cli: Cli, workdir: Path,
                                                           last_chip: list[VirtualChip]) -> None:
    """After write-flash (--after hard_reset), the board runs the new app; with a
    custom_hard_reset_sequence that holds GPIO0 low it stays in the ROM loader, waiting for download."""
    app = workdir / "app.bin"
    app.write_bytes(bytes(range(256)) * 64)
    r = cli("--port", sim(workdir), "write-flash", "0x10000", str(app))
    assert r.code == 0, r.err
    log = boots_into(last_chip[-1])
    assert "SPI_FAST_FLASH_BOOT" in log and "waiting for download" not in log, log
    write_config(workdir, "esptool.cfg", f"custom_hard_reset_sequence = {INTO_LOADER}")
    r = cli("--port", sim(workdir), "write-flash", "0x10000", str(app))
    assert r.code == 0 and "warning" not in r.err.lower(), r.err
    log = boots_into(last_chip[-1])
    assert "DOWNLOAD_BOOT" in log and "waiting for download" in log, log
    # --after no_reset: the sequence is a hard reset's only
    r = cli("--port", sim(workdir), "--after", "no_reset", "read-mac")
    assert r.code == 0 and boots_into(last_chip[-1]) == ""
    write_config(workdir, "esptool.cfg", "custom_hard_reset_sequence = D1|Q0")
    r = cli("--port", sim(workdir), "read-mac")
    assert r.code == 2 and "bad reset step 'Q0'" in r.err and "Traceback" not in r.err


HANG = "hang_at=120"  #: the chip stops answering while esptk reads its registers after SYNC


@pytest.mark.parametrize("name", ["esptk.cfg", "setup.cfg", "tox.ini"])
def test_timeout_is_how_long_esptk_waits_for_a_chip_that_stopped_answering(workdir: Path, name: str) -> None:
    """esptk run as a user runs it (a new process): the default is 3 s per command (about 12 s here,
    with the retries); timeout = 0.3 gives up in about a tenth of that and says so."""
    write_config(workdir, name, "timeout = 0.3")
    t0 = time.monotonic()
    r = run_esptk("--port", sim(workdir, HANG), "--no-stub", "read-mac", cwd=workdir)
    took = time.monotonic() - t0
    assert r.code == 1 and "within 0.3 s" in r.err and "Traceback" not in r.err, r.err
    assert took < 8, took  # the default would take at least 4 x 3 s


def test_timeout_applies_in_process_too(cli: Cli, workdir: Path) -> None:
    import esptk.loader  # noqa: F401  (as after an earlier run in this process)

    write_config(workdir, "esptool.cfg", "timeout = 0.3")
    r = cli("--port", sim(workdir, HANG), "--no-stub", "read-mac")
    assert r.code == 1 and "within 0.3 s" in r.err, r.err


def test_sync_timeout_is_how_long_each_sync_waits(cli: Cli, workdir: Path) -> None:
    """A chip that never answers: each connect attempt sends SYNC 5 times and waits sync_timeout for
    each reply; one attempt with sync_timeout = 0.5 takes 2.5 s instead of a fraction of that."""
    port = sim(workdir, "hang_at=1")
    write_config(workdir, "esptool.cfg", "connect_attempts = 1")
    t0 = time.monotonic()
    r = cli("--port", port, "--before", "no_reset", "read-mac")
    quick = time.monotonic() - t0
    assert r.code == 1 and "attempt 1 failed" in r.err, r.err
    write_config(workdir, "esptool.cfg", "connect_attempts = 1\nsync_timeout = 0.5")
    t0 = time.monotonic()
    r = cli("--port", port, "--before", "no_reset", "read-mac")
    slow = time.monotonic() - t0
    assert r.code == 1 and "attempt 1 failed" in r.err, r.err
    assert slow >= 2.5 and slow > quick + 1.5, (quick, slow)
