"""Shared fixtures: a fresh plugin registry per test, and running the CLI in-process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def registry():  # type: ignore[no-untyped-def]
    from esptk.plugins import make_plugin_manager

    return make_plugin_manager()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``esptk`` in this process; returns exit code, stdout and stderr."""
    from esptk.cli import main

    def run(*args: str) -> Result:
        code = main(list(args))
        cap = capsys.readouterr()
        return Result(code, cap.out, cap.err)

    return run


def esptk_cmd() -> list[str]:
    return [sys.executable, "-m", "esptk"]


def run_esptk(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
              cwd: str | os.PathLike[str] | None = None) -> Result:
    """Run ``esptk`` as a separate process, as a user would."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    p = subprocess.run([*esptk_cmd(), *args], capture_output=True, text=True, timeout=timeout, env=full_env,
                       cwd=cwd)
    return Result(p.returncode, p.stdout, p.stderr)


def have(program: str) -> bool:
    return shutil.which(program) is not None


def read_pty_to_end(master: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> bytes:
    """Everything the process writes to the terminal whose master end is ``master``, until it exits
    (or closes the terminal) or ``timeout`` seconds pass."""
    import select
    import time

    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    return seen
