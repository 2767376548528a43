"""What tools that wrap esptool read: esptool's log lines on stdout, --json results and errors, the
config file, and the options esptool users type (checked on the virtual chip, in this process)."""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import Result

Cli = Callable[..., Result]


def data(size: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(16)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.7 else rnd.randbytes(4) for _ in range(size // 4))


@pytest.fixture
def app(tmp_path: Path) -> Path:
    p = tmp_path / "app.bin"
    p.write_bytes(data(40 * 1024, 3))
    return p


def sim(tmp_path: Path, chip: str = "esp32") -> str:
    return f"sim://{chip}?flash_file={tmp_path / 'flash.bin'}"


def test_write_flash_piped_logs_like_esptool(cli: Cli, tmp_path: Path, app: Path) -> None:
    r = cli("--port", sim(tmp_path), "write-flash", "0x10000", str(app))  # stdout is captured: not a terminal
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    progress = [x for x in lines if x.startswith("Writing at 0x")]
    addresses = [int(x.split()[2], 16) for x in progress]
    assert len(progress) >= 2 and addresses == sorted(addresses) and addresses[-1] == 0x10000 + 40 * 1024
    assert progress[-1].endswith(f"100.0% {40 * 1024}/{40 * 1024} bytes...")
    assert any(x.startswith("Wrote 40960 bytes (") and "compressed) at 0x00010000 in " in x for x in lines)
    assert lines[-3:] == ["Hash of data verified.", "Leaving...", "Hard resetting via RTS pin..."]
    assert "Chip is ESP32" in r.err  # esptk's own messages stay on stderr


def test_log_format_esptk_keeps_stdout_empty(cli: Cli, tmp_path: Path, app: Path) -> None:
    r = cli("--log-format", "esptk", "--port", sim(tmp_path), "write-flash", "0x10000", str(app))
    assert r.code == 0 and r.out == "" and "Wrote 40960 bytes" in r.err
    os.environ["ESPTK_LOG_FORMAT"] = "esptk"
    try:
        assert cli("--port", sim(tmp_path), "write-flash", "0x10000", str(app)).out == ""
    finally:
        del os.environ["ESPTK_LOG_FORMAT"]
    bad = cli("--log-format", "fancy", "--port", sim(tmp_path), "read-mac")
    assert bad.code == 2 and "log format 'fancy'" in bad.err


def test_data_commands_keep_stdout_for_data(cli: Cli, tmp_path: Path) -> None:
    r = cli("--port", sim(tmp_path), "read-mac")
    assert r.code == 0 and r.out.strip() == "MAC: 24:0a:c4:12:34:56"
    r = cli("--log-format", "esptool", "--port", sim(tmp_path), "read-mac")  # asked for: esptool's lines too
    assert {"Leaving...", "Hard resetting via RTS pin...", "MAC: 24:0a:c4:12:34:56"} <= set(r.out.splitlines())


def test_read_flash_logs_reading_lines(cli: Cli, tmp_path: Path) -> None:
    r = cli("--port", sim(tmp_path), "--after", "no_reset", "read-flash", "0", "0x8000", str(tmp_path / "r.bin"))
    assert r.code == 0, r.err
    assert [x for x in r.out.splitlines() if x.startswith("Reading at")][-1].startswith("Reading at 0x00008000")
    assert r.out.splitlines()[-2:] == ["Leaving...", "Staying in bootloader."]
    # esptool 5.6's summary line (seen: "Read 65536 bytes from 0x00000000 in 0.6 seconds (927.3 kbit/s) to 'y.bin'.")
    summary = r.out.splitlines()[-3]
    out = re.escape(str(tmp_path / "r.bin"))
    assert re.fullmatch(rf"Read 32768 bytes from 0x00000000 in [\d.]+ seconds \([\d.]+ kbit/s\) to '{out}'\.", summary)
    assert re.search(r"Read 32768 bytes at 0x00000000 in [\d.]+ s \(\d+ kbit/s\) into ", r.err)


def test_errors_are_one_json_object_with_json(cli: Cli, tmp_path: Path) -> None:
    r = cli("--json", "--port", "socket://127.0.0.1:1", "--connect-attempts", "1", "read-mac")
    obj = json.loads(r.out)
    assert r.code == 1 and obj["exit_code"] == 1 and obj["error"].startswith("nothing listens") and obj["hint"]
    r = cli("--chip", "esp32", "merge-bin", "--json", "-o", str(tmp_path / "m.bin"), "0x1000")
    obj = json.loads(r.out)
    assert r.code == 2 and obj["exit_code"] == 2 and "pairs" in obj["error"]
    r = cli("--json", "no-such-command")
    assert r.code == 2 and json.loads(r.out)["exit_code"] == 2


def test_offline_commands_report_json(cli: Cli, tmp_path: Path, app: Path) -> None:
    out = tmp_path / "merged.bin"
    r = cli("--chip", "esp32", "merge-bin", "--json", "-o", str(out), "0x1000", str(app))
    obj = json.loads(r.out)
    assert r.code == 0 and obj["files"][0]["file"] == str(out) and obj["files"][0]["size"] == out.stat().st_size
    seg = tmp_path / "seg.bin"
    seg.write_bytes(bytes(range(64)))
    r = cli("--chip", "esp8266", "--json", "make-image", "-f", str(seg), "-a", "0x40100000", str(tmp_path / "i.bin"))
    assert r.code == 0, r.err
    assert json.loads(r.out)["files"][0]["size"] == (tmp_path / "i.bin").stat().st_size


def test_config_file_custom_reset_sequence(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "esptool.cfg").write_text("[esptool]\ncustom_reset_sequence = R1|W0.1|R0\nconnect_attempts = 2\n")
    r = cli("--port", sim(tmp_path), "read-mac")  # never pulls GPIO0 low: the chip boots its app
    assert r.code == 1 and "download mode" in r.err and "attempt 2 failed" in r.err and "attempt 3" not in r.err
    (tmp_path / "esptool.cfg").write_text("[esptool]\ncustom_reset_sequence = D0|R1|W0.1|D1|R0|W0.05|D0\n"
                                          "timeout = 4\nbogus = 1\n")
    r = cli("--port", sim(tmp_path), "read-mac")
    assert r.code == 0 and "unknown option 'bogus'" in r.err
    (tmp_path / "esptool.cfg").write_text("[esptool]\ncustom_reset_sequence = D0|X1\n")
    r = cli("--port", sim(tmp_path), "read-mac")
    assert r.code == 2 and "bad reset step" in r.err


@pytest.mark.parametrize(("args", "message"), [
    (["--port-filter", "colour=red"], "--port-filter 'colour=red'"),
    (["--port-filter", "vid=xyz"], "not a hex number"),
    (["--override-vddsdio", "2.5V"], "--override-vddsdio '2.5V'"),
], ids=["filter-key", "filter-vid", "vddsdio"])
def test_bad_global_options_are_usage_errors(cli: Cli, tmp_path: Path, args: list[str], message: str) -> None:
    r = cli(*args, "--port", sim(tmp_path), "read-mac")
    assert r.code == 2 and message in r.err and "Traceback" not in r.err


def test_override_vddsdio_refused_where_the_chip_has_none(cli: Cli, tmp_path: Path) -> None:
    r = cli("--override-vddsdio", "1.8V", "--port", sim(tmp_path, "esp8266"), "read-mac")
    assert r.code == 2 and "not supported on ESP8266" in r.err


@pytest.mark.parametrize(("args", "message"), [
    (["-sc", "1,2,3"], "--spi-connection '1,2,3'"),
    (["-sc", "6,7,8,9,31"], "--spi-connection"),
    (["--skip-flashed", "--diff-with", "x.bin"], "--skip-flashed excludes"),
    (["--trust-flash-content"], "only works with --diff-with"),
], ids=["sc-short", "sc-pin", "skip-diff", "trust-alone"])
def test_write_flash_option_misuse(cli: Cli, tmp_path: Path, app: Path, args: list[str], message: str) -> None:
    r = cli("--port", sim(tmp_path), "write-flash", "0x10000", str(app), *args)
    assert r.code == 2 and message in r.err


def test_diff_with_writes_only_changed_sectors(cli: Cli, tmp_path: Path, app: Path) -> None:
    assert cli("--port", sim(tmp_path), "write-flash", "0x10000", str(app)).code == 0
    new = bytearray(app.read_bytes())
    new[5000] ^= 0xFF
    new[30000] ^= 0xFF
    (tmp_path / "new.bin").write_bytes(bytes(new))
    r = cli("--port", sim(tmp_path), "write-flash", "0x10000", str(tmp_path / "new.bin"), "--diff-with", str(app))
    assert r.code == 0, r.err
    wrote = [x for x in r.err.splitlines() if x.startswith("Wrote ")]
    assert [x.split(" at ")[1].split()[0] for x in wrote] == ["0x00011000", "0x00017000"]
    assert (tmp_path / "flash.bin").read_bytes()[0x10000:0x10000 + len(new)] == bytes(new)
    r = cli("--port", sim(tmp_path), "write-flash", "0x10000", str(tmp_path / "new.bin"), "--skip-flashed")
    assert r.code == 0 and "already in flash, skipping write" in r.err and "Wrote" not in r.err


def test_read_flash_status_and_sfdp(cli: Cli, tmp_path: Path) -> None:
    r = cli("--port", sim(tmp_path), "--json", "read-flash-status", "--bytes", "3")
    assert r.code == 0 and json.loads(r.out)["bytes"] == 3
    r = cli("--port", sim(tmp_path), "read-flash-sfdp", "0", "5")
    assert r.code == 2 and "1 to 4" in r.err
