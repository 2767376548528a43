"""flash-many: one job on several virtual chips served in their own processes, as boards would be."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Result, run_esptk
from tests.peer.conftest import Server, start_server

MACS = ["24:0a:c4:00:00:01", "24:0a:c4:00:00:02", "24:0a:c4:00:00:03"]


@pytest.fixture
def boards(tmp_path: Path) -> Iterator[list[Server]]:
    servers = [start_server("esp32", "tcp", tmp_path / f"flash{i}.bin", "--mac", mac) for i, mac in enumerate(MACS)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def job_files(tmp_path: Path) -> dict[str, bytes]:
    files = {"boot.bin": os.urandom(0x3000), "app.bin": os.urandom(100 * 1024)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return files


def ports(servers: list[Server]) -> list[str]:
    return [arg for s in servers for arg in ("--port", s.endpoint)]


def test_every_board_is_flashed_and_recorded(boards: list[Server], job_files: dict[str, bytes],
                                             tmp_path: Path) -> None:
    log = tmp_path / "records.jsonl"
    r = run_esptk("--before", "no_reset", "flash-many", *ports(boards), "--log", str(log),
                  "0x1000", str(tmp_path / "boot.bin"), "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 0, r.err
    assert "3 board(s) done, 0 failed" in r.err
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(rec["mac"] for rec in records) == MACS
    for rec in records:
        assert rec["result"] == "done" and rec["chip"] == "esp32" and rec["flash_id"] == "0x1640ef"
        assert rec["revision"] == "v3.0"  # as the banner names it (ESP32-D0WD-V3, revision v3.0)
        assert [(reg["address"], reg["md5"]) for reg in rec["regions"]] == [
            (0x1000, _md5(job_files["boot.bin"])), (0x10000, _md5(job_files["app.bin"]))]
        assert all(reg["verified"] for reg in rec["regions"])
    for s in boards:
        s.stop()
        flash = s.flash_file.read_bytes()
        assert flash[0x1000:0x4000] == job_files["boot.bin"]
        assert flash[0x10000:0x10000 + len(job_files["app.bin"])] == job_files["app.bin"]


def test_a_failing_board_does_not_stop_the_others(boards: list[Server], job_files: dict[str, bytes],
                                                  tmp_path: Path) -> None:
    log = tmp_path / "records.jsonl"
    dead = "socket://127.0.0.1:9"  # nothing listens there
    r = run_esptk("--before", "no_reset", "--json", "flash-many", *ports(boards), "--port", dead, "--log", str(log),
                  "--retries", "0", "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 1
    out = json.loads(r.out)
    assert out["done"] == 3 and out["failed"] == 1
    failed = [b for b in out["boards"] if b["result"] == "failed"]
    assert failed[0]["port"] == dead and "127.0.0.1:9" in failed[0]["error"]
    assert len(log.read_text().splitlines()) == 4
    assert "error: 1 of 4 board(s) failed" in r.err


def test_job_file_refuses_a_board_that_differs(boards: list[Server], job_files: dict[str, bytes],
                                              tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text('chip = "esp32"\nexpect_flash_size = "16MB"\nbefore = "no_reset"\n'
                   'regions = [{address = "0x10000", file = "app.bin"}]\n')
    r = run_esptk("--json", "flash-many", "--job", str(job), *ports(boards[:1]))
    assert r.code == 1
    board = json.loads(r.out)["boards"][0]
    assert board["result"] == "failed" and "4MB of flash, the job expects 16MB" in board["error"]
    assert board["retries"] == 0 and board["regions"] == []
    boards[0].stop()
    assert set(boards[0].flash_file.read_bytes()[0x10000:0x11000]) <= {0xFF}  # nothing written


def test_rerun_resumes_an_interrupted_board(tmp_path: Path, job_files: dict[str, bytes]) -> None:
    flash = tmp_path / "flash.bin"
    first = start_server("esp32", "tcp", flash, "--hang-at", "80000")
    try:
        r = run_esptk("--before", "no_reset", "flash-many", "--port", first.endpoint, "--retries", "0",
                      "0x10000", str(tmp_path / "app.bin"))
        assert r.code == 1
    finally:
        first.stop()
    again = start_server("esp32", "tcp", flash)
    try:
        log = tmp_path / "records.jsonl"
        r = run_esptk("--before", "no_reset", "flash-many", "--port", again.endpoint, "--log", str(log),
                      "0x10000", str(tmp_path / "app.bin"))
        assert r.code == 0, r.err
    finally:
        again.stop()
    rec = json.loads(log.read_text())
    region = rec["regions"][0]
    assert 0 < region["skipped_bytes"] < len(job_files["app.bin"])
    assert "bytes were already in flash and skipped" in r.err
    assert flash.read_bytes()[0x10000:0x10000 + len(job_files["app.bin"])] == job_files["app.bin"]


def test_plain_lines_when_not_a_terminal(boards: list[Server], job_files: dict[str, bytes], tmp_path: Path) -> None:
    r = run_esptk("--before", "no_reset", "flash-many", *ports(boards[:2]), "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 0, r.err
    for s in boards[:2]:
        assert f"{s.endpoint} | connecting" in r.err
        assert any(line.startswith(f"{s.endpoint} | done | esp32 ") for line in r.err.splitlines())


def test_watch_flashes_boards_as_they_come(boards: list[Server], job_files: dict[str, bytes], tmp_path: Path) -> None:
    r = run_esptk("--before", "no_reset", "--json", "flash-many", "--watch", "--count", "2", *ports(boards[:2]),
                  "0x10000", str(tmp_path / "app.bin"), timeout=120)
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["done"] == 2 and sorted(b["mac"] for b in out["boards"]) == MACS[:2]


@pytest.mark.parametrize("args,message", [
    ((), "no ports given"),
    (("--port", "sim://esp32"), "no regions to write"),
    (("--port", "sim://esp32", "--port", "sim://esp32", "0x0", "README.md"), "a port is named twice"),
    (("--port", "sim://esp32", "--job", "nope.toml"), "job file nope.toml does not exist"),
])
def test_bad_invocations_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    r = run_esptk("flash-many", *args, cwd=Path(__file__).resolve().parents[2])
    assert r.code == 2 and message in r.err and "Traceback" not in r.err


def _md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data).hexdigest()


def test_all_ports_and_port_filter_choose_the_boards(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path, job_files: dict[str, bytes]) -> None:
    """--all-ports flashes every candidate port (never a Bluetooth one); --port-filter narrows; records
    carry each bridge's USB serial number."""
    from esptk.cli import ports
    from esptk.ports import PortInfo

    boards = [PortInfo(f"sim://esp32?mac={mac}&flash_file={tmp_path / f'f{i}.bin'}", 0x10C4, 0xEA60, f"SER{i}",
                       "Silicon Labs", "CP2102") for i, mac in enumerate(MACS[:2])]
    bluetooth = PortInfo("/dev/rfcomm0", description="Bluetooth serial")
    monkeypatch.setattr(ports, "all_ports", lambda: [bluetooth, *boards])
    app = str(tmp_path / "app.bin")
    r = cli("--json", "flash-many", "--all-ports", "0x10000", app)
    assert r.code == 0, r.err
    got = {(b["mac"], b["usb_serial"]) for b in json.loads(r.out)["boards"]}
    assert got == {(MACS[0], "SER0"), (MACS[1], "SER1")} and "rfcomm" not in r.out
    r = cli("--port-filter", "serial=SER1", "--json", "flash-many", "0x10000", app)
    assert r.code == 0, r.err
    assert [b["usb_serial"] for b in json.loads(r.out)["boards"]] == ["SER1"]
    r = cli("--port-filter", "vid=0x303a", "flash-many", "0x10000", app)
    assert r.code == 2 and "no serial port found matching --port-filter" in r.err
    r = cli("flash-many", "--all-ports", "--port", "sim://esp32", "0x10000", app)
    assert r.code == 2 and "not both" in r.err
