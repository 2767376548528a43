"""A throwaway environment with esptk and esptk-esptool-compat (never beside the real esptool)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import ROOT

DISTS = ["core", "plugins/esp8266", "plugins/esp32", "plugins/transports/serial", "plugins/transports/sim",
         "plugins/esptool-compat"]


@dataclass
class CompatEnv:
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> str:
        return str(self.bin / "python")

    def env(self) -> dict[str, str]:
        """PATH starts with the environment's executables; no esptk/esptool settings leak in."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("ESPTK_", "ESPTOOL_", "PYTHON"))}
        return {**keep, "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}

    def run(self, *cmd: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, env=self.env(),
                              cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def compat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompatEnv]:
    root = tmp_path_factory.mktemp("compat") / "venv"
    venv.create(root, with_pip=True)
    env = CompatEnv(root)
    args = [env.python, "-m", "pip", "--disable-pip-version-check", "-q", "install"]
    for d in DISTS:
        args += ["-e", str(ROOT / d)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        pytest.skip(f"cannot install esptk into a fresh environment here: {r.stderr.strip().splitlines()[-1:]}")
    yield env


def sim_port(chip: str, flash: Path) -> str:
    return f"sim://{chip}?flash_file={flash}"


def this_python() -> str:
    return sys.executable
