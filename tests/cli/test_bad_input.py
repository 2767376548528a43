"""Bad numbers, sizes and paths: one error line and a hint, exit 2, never an internal error, and
found before the port is opened (the port below does not exist: its error must not show)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..conftest import Result

NOPORT = ["--port", "/dev/esptk-no-such-port"]


def usage_error(r: Result, *words: str) -> None:
    assert r.code == 2, (r.code, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert lines[0].startswith("error:"), r.err
    assert any(ln.startswith("hint:") for ln in lines), r.err
    assert "esptk-no-such-port" not in r.err  # refused before the port was opened
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture
def here(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "f.bin").write_bytes(os.urandom(100))
    (tmp_path / "folder").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(cwd)


NUMBERS = {
    "negative read size": (["read-flash", "--", "0", "-4096", "o"], "not above zero"),
    "negative erase size": (["erase-region", "--", "0", "-0x1000"], "not above zero"),
    "address past 32 bits": (["read-mem", "0x100000000"], "32 bits"),
    "20-digit value": (["write-mem", "0x3ff00000", "12345678901234567890"], "32 bits"),
    "negative mask": (["write-mem", "0x3ff00000", "1", "--", "-1"], "negative"),
    "flash size -1MB": (["write-flash", "--flash-size", "-1MB", "0x10000", "f.bin"], "--flash-size"),
    "unknown flash mode": (["verify-flash", "--flash-mode", "fast", "0x10000", "f.bin"], "--flash-mode"),
    "baud too high": (["-b", "99999999999", "read-mac"], "baud"),
    "baud 0": (["-b", "0", "read-mac"], "baud"),
    "baud -1": (["-b", "-1", "read-mac"], "baud"),
    "overlapping writes": (["write-flash", "0x10000", "f.bin", "0x10800", "f.bin"], "share flash sectors"),
    "unaligned erase": (["erase-region", "0x1000", "0x100"], "4 KiB"),
    "read past any flash": (["read-flash", "0", "0x2000000", "o"], "ends past"),
    "erase past any flash": (["erase-region", "0xFFFFF000", "0x2000"], "ends past"),
    "dump-mem past 4 GiB": (["dump-mem", "0xFFFFFFF0", "0x20", "o"], "32-bit address space"),
    "dump-mem unaligned": (["dump-mem", "0x3ffb0001", "4", "o"], "multiples of 4"),
}


@pytest.mark.parametrize("case", list(NUMBERS))
def test_bad_numbers_are_usage_errors_found_before_connecting(cli: Callable[..., Result], here: Path,
                                                               case: str) -> None:
    args, word = NUMBERS[case]
    usage_error(cli(*NOPORT, *args), word)
    assert not (here / "o").exists()


@pytest.mark.parametrize("baud", ["0", "-1", "99999999999"])
def test_bad_baud_on_the_virtual_chip(cli: Callable[..., Result], baud: str) -> None:
    usage_error(cli("--port", "sim://esp32", "-b", baud, "flash-id"), "baud")


def test_a_word_for_the_baud_rate_names_the_option_plainly(cli: Callable[..., Result]) -> None:
    r = cli(*NOPORT, "-b", "abc", "read-mac")
    assert r.code == 2 and "--baud" in r.err and "'abc'" in r.err
    assert "['" not in r.err and "Traceback" not in r.err  # no Python list of environment variables


def test_read_all_from_past_the_end_of_flash(cli: Callable[..., Result], here: Path) -> None:
    r = cli("--port", "sim://esp32", "read-flash", "0x500000", "ALL", "o")
    assert r.code == 2 and "past the end of the 4MB flash" in r.err and "Traceback" not in r.err
    assert not (here / "o").exists()


OUTPUTS = {"a folder": "folder", "an empty name": "", "a name ending in /": "nodir/",
           "a file in a missing folder": "nodir/o.bin", "a file under a file": "f.bin/o.bin"}


@pytest.mark.parametrize("what", list(OUTPUTS))
@pytest.mark.parametrize("command", [["read-flash", "0", "16"], ["dump-mem", "0x3ffb0000", "16"]])
def test_unusable_output_is_refused_before_connecting(cli: Callable[..., Result], here: Path,
                                                      command: list[str], what: str) -> None:
    usage_error(cli(*NOPORT, *command, OUTPUTS[what]))
    assert sorted(p.name for p in here.iterdir()) == ["f.bin", "folder"]


IMAGE_CASES = {
    "negative segment address": (["--chip", "esp8266", "make-image", "-f", "f.bin", "-a", "-0x1000", "out.bin"],
                                 "negative"),
    "entry past 32 bits": (["--chip", "esp8266", "make-image", "-f", "f.bin", "-a", "0x40100000",
                            "-e", "0x100000000", "out.bin"], "32 bits"),
    "merge at 4 GiB": (["--chip", "esp32", "merge-bin", "-o", "out.bin", "0x100000000", "f.bin"], "32 bits"),
    "merge past the largest flash": (["--chip", "esp32", "merge-bin", "-o", "out.bin", "0xFFFFF000", "f.bin"],
                                     "largest ESP32 flash"),
    "negative target offset": (["--chip", "esp32", "merge-bin", "-o", "out.bin", "--target-offset", "-0x1000",
                                "0x1000", "f.bin"], "negative"),
    "merge into a folder": (["--chip", "esp32", "merge-bin", "-o", "folder", "0x1000", "f.bin"], "folder"),
}


@pytest.mark.parametrize("case", list(IMAGE_CASES))
def test_image_commands_refuse_bad_numbers_without_output(cli: Callable[..., Result], here: Path,
                                                          case: str) -> None:
    args, word = IMAGE_CASES[case]
    usage_error(cli(*args), word)
    assert not (here / "out.bin").exists()


def test_argument_file_that_is_not_utf8(cli: Callable[..., Result], tmp_path: Path) -> None:
    f = tmp_path / "args"
    f.write_bytes(b"\xff\xfe-\x00-\x00c\x00")  # UTF-16, as some editors save
    usage_error(cli(f"@{f}", "version"), "not UTF-8")


def test_load_ram_refuses_a_file_that_is_no_image_before_connecting(cli: Callable[..., Result], here: Path) -> None:
    usage_error(cli(*NOPORT, "--chip", "esp32", "load-ram", "f.bin"), "not an ESP32 image")
