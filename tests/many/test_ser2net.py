"""Boards on another host: a real ser2net serves virtual chips' ptys as RFC 2217 ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import have, run_esptk
from tests.peer.conftest import Server, start_server

pytestmark = pytest.mark.skipif(not have("ser2net"), reason="Debian's ser2net is not installed (.ci/run installs it)")

MACS = ["24:0a:c4:00:01:01", "24:0a:c4:00:01:02", "24:0a:c4:00:01:03"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"ser2net does not listen on {port}")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[tuple[list[Server], list[str]]]:
    chips = [start_server("esp32", "pty", tmp_path / f"flash{i}.bin", "--mac", mac) for i, mac in enumerate(MACS)]
    tcp = [free_port() for _ in chips]
    conf = ["%YAML 1.1", "---"]
    for i, (chip, port) in enumerate(zip(chips, tcp)):
        conf += [f"connection: &board{i}", f"  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}",
                 f"  connector: serialdev,{chip.endpoint},115200n81,local", "  options:", "    kickolduser: true"]
    (tmp_path / "ser2net.yaml").write_text("\n".join(conf) + "\n")
    proc = subprocess.Popen(["ser2net", "-n", "-u", "-c", str(tmp_path / "ser2net.yaml"), "-P",
                             str(tmp_path / "ser2net.pid")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        for port in tcp:
            wait_listening(port)
        yield chips, [f"rfc2217://127.0.0.1:{p}?ign_set_control" for p in tcp]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for chip in chips:
            chip.stop()


def test_flash_many_through_ser2net(farm: tuple[list[Server], list[str]], tmp_path: Path) -> None:
    chips, urls = farm
    app = os.urandom(64 * 1024)
    (tmp_path / "app.bin").write_bytes(app)
    args = [a for u in urls for a in ("--port", u)]
    r = run_esptk("--before", "no_reset", "--json", "flash-many", *args, "0x10000", str(tmp_path / "app.bin"),
                  timeout=300)
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["done"] == 3
    assert sorted(b["mac"] for b in out["boards"]) == MACS
    for chip in chips:
        chip.stop()
        assert chip.flash_file.read_bytes()[0x10000:0x10000 + len(app)] == app
