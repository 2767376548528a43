"""A third party's chip plugin, installed with pip, is found and used without touching core."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from ..conftest import ROOT, run_esptk

FAKE = ROOT / "tests" / "plugins" / "esptk-fakechip"


def pip(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          capture_output=True, text=True, timeout=600)


def _names() -> dict[str, str]:
    r = run_esptk("plugins", "--json")
    assert r.code == 0, r.err
    return {p["name"]: p["status"] for p in json.loads(r.out)["plugins"]}


@pytest.mark.slow
def test_installed_plugin_appears_and_uninstalled_one_disappears(tmp_path: Path) -> None:
    assert "fakechip" not in _names()
    r = pip("install", "--no-deps", "--no-build-isolation", str(FAKE))
    assert r.returncode == 0, r.stderr
    try:
        assert _names()["fakechip"] == "ok"
        # used without any change to core: esptk names it, and tells its relative by magic value
        from esptk.plugins import make_plugin_manager

        code = ("from esptk.plugins import make_plugin_manager as m; r = m(); "
                "print(r.chip('fakechip').description, r.name_magic(0xFA4EC41C))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.stdout.split() == ["FAKECHIP", "FAKECHIP-NEXT"], out.stderr
        assert make_plugin_manager  # imported from the installed core, not a copy
    finally:
        r = pip("uninstall", "-y", "esptk-fakechip")
        assert r.returncode == 0, r.stderr
    assert "fakechip" not in _names()


@pytest.mark.slow
def test_core_installs_and_runs_alone(tmp_path: Path) -> None:
    """A fresh environment with only the core distribution (deps from the package index)."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = str(env_dir / ("Scripts" if os.name == "nt" else "bin") / "python")
    r = pip("install", str(ROOT / "core"), python=py)
    if r.returncode != 0:
        pytest.skip(f"cannot install core's dependencies here: {r.stderr.strip().splitlines()[-1:]}")
    out = subprocess.run([py, "-m", "esptk", "plugins", "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert json.loads(out.stdout)["plugins"] == []
    assert "no chip plugin is installed" in out.stderr
    out = subprocess.run([py, "-m", "esptk", "--port", "sim://esp32", "read-mac"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "no transport" in out.stderr or "no chip plugin" in out.stderr
