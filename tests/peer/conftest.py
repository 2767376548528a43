"""Peer checks: the real esptool (test-only dependency) against ``esptk sim serve`` in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 20
COMMAND_TIMEOUT = 120


@dataclass
class Server:
    proc: subprocess.Popen[str]
    endpoint: str
    chip: str
    flash_file: Path

    def esptool(self, *args: str, stub: bool = True, check: bool = True,
                 resets: bool = False, detect: bool = False) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "esptool", "--port", self.endpoint]
        if not detect:
            cmd += ["--chip", self.chip]
        if not resets:
            cmd += ["--before", "no-reset", "--after", "no-reset"]
        if not stub:
            cmd.append("--no-stub")
        res = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                             stdin=subprocess.DEVNULL)
        if check and res.returncode != 0:
            raise AssertionError(f"esptool {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
        return res

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def start_server(chip: str, link: str, flash_file: Path, *extra: str) -> Server:
    cmd = [sys.executable, "-m", "esptk", "sim", "serve", "--chip", chip, "--flash-file", str(flash_file), *extra]
    cmd += ["--tcp", "127.0.0.1:0"] if link == "tcp" else ["--pty"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(START_TIMEOUT)
    if not line or not line[0].strip():
        proc.kill()
        _out, err = proc.communicate(timeout=5)
        raise AssertionError(f"esptk sim serve gave no endpoint line:\n{err}")
    return Server(proc, line[0].strip(), chip, flash_file)


ServeFn = Callable[..., Server]


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeFn]:
    """serve(chip, link, *options) -> a running Server, reused per (chip, link, options) in the module."""
    servers: dict[tuple[str, ...], Server] = {}

    def get(chip: str, link: str, *extra: str) -> Server:
        key = (chip, link, *extra)
        if key not in servers:
            folder = tmp_path_factory.mktemp(f"{chip}-{link}")
            servers[key] = start_server(chip, link, folder / "flash.bin", *extra)
        return servers[key]

    yield get
    for s in servers.values():
        rc = s.stop()
        assert rc == 0, f"esptk sim serve exited {rc}: {s.proc.stderr.read() if s.proc.stderr else ''}"
