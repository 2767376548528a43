"""A real RFC 2217 server: Debian's ser2net in front of ``esptk sim serve --pty``.

pyserial's rfc2217 class refused the write timeout esptk set (NotImplementedError); ser2net in
front of a pty never confirms SET_CONTROL, which pyserial waits for unless ``?ign_set_control``.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ..conftest import have, run_esptk
from ..peer.conftest import start_server

pytestmark = pytest.mark.skipif(not have("ser2net"), reason="ser2net is not installed (apt-get install ser2net)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_ser2net(tmp_path: Path, device: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = tmp_path / "ser2net.yaml"
    config.write_text(f"connection: &sim\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
                      f"  connector: serialdev,{device},115200n81,local\n")
    proc = subprocess.Popen(["ser2net", "-n", "-d", "-c", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("ser2net did not start listening")


@pytest.mark.parametrize("query", ["", "?ign_set_control"], ids=["plain", "ign_set_control"])
def test_write_and_read_through_ser2net(tmp_path: Path, query: str) -> None:
    flash = tmp_path / "flash.bin"
    server = start_server("esp32", "pty", flash)
    proc, port = start_ser2net(tmp_path, server.endpoint)
    url = f"rfc2217://127.0.0.1:{port}{query}"
    image = tmp_path / "app.bin"
    payload = random.Random(3).randbytes(100_000)
    image.write_bytes(payload)
    back = tmp_path / "back.bin"
    try:
        r = run_esptk("--port", url, "-b", "460800", "write-flash", "0x10000", str(image))
        assert r.code == 0, r.err
        assert "verified" in r.err
        r = run_esptk("--port", url, "--no-stub", "read-flash", "0x10000", "0x400", str(back))
        assert r.code == 0, r.err
    finally:
        proc.terminate()
        proc.wait(10)
        assert server.stop() == 0
    assert back.read_bytes() == payload[:0x400]
    assert flash.read_bytes()[0x10000:0x10000 + len(payload)] == payload
