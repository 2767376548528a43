"""eFuse tests: the virtual ESP32 keeps its eFuses in a file (espefuse's --virt format)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import Result

EFUSE_TIMEOUT = 120


class Chip:
    """One virtual ESP32 whose eFuses live in ``path``; each command is a fresh connection."""

    def __init__(self, path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self.url = f"sim://esp32?efuse_file={path}"
        self._cli = cli
        self._mp = monkeypatch

    def esptk(self, *args: str, stdin: str = "") -> Result:
        self._mp.setattr(sys, "stdin", io.StringIO(stdin))
        return self._cli("-q", "-p", self.url, "efuse", *args)

    def summary(self) -> dict[str, Any]:
        r = self.esptk("summary", "--format", "json")
        assert r.code == 0, r.err
        return json.loads(r.out)  # type: ignore[no-any-return]

    def value(self, name: str) -> Any:
        return self.summary()[name]["value"]

    def espefuse(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The real espefuse on the same state (``--virt --path-efuse-file``)."""
        return run_espefuse("--virt", "--chip", "esp32", "--path-efuse-file", str(self.path), *args, check=check)


def run_espefuse(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "espefuse", *args], capture_output=True, text=True,
                       timeout=EFUSE_TIMEOUT, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise AssertionError(f"espefuse {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture
def chip(tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Chip:
    return Chip(tmp_path / "efuse.bin", cli, monkeypatch)
