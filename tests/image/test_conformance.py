"""The shared conformance set (esptool 5.6 reference outputs), one test per case and spelling.

The data is not copied into the project: it is found at ``../shared/conformance`` next to the
repository (or at ``$ESPTK_CONFORMANCE``). Each case runs the installed esptk as a subprocess
(``sys.executable -m esptk``) in a scratch folder, like the set's own ``check.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(os.environ.get("ESPTK_CONFORMANCE", REPO.parent / "shared" / "conformance"))
#: image-info lines whose facts must agree with esptool's text (the wording may differ elsewhere)
FACT_PREFIXES = ("Image version:", "Entry point:", "Segments:", "Flash size:", "Flash freq:", "Chip ID:",
                 "Checksum:", "Validation hash:", "Detected image type:", "Minimal chip revision:",
                 "Maximal chip revision:")


def _cases() -> list[object]:
    params: list[object] = []
    for set_name in ("public", "hidden"):
        path = ROOT / set_name / "cases.json"
        if not path.is_file():
            continue
        for case in json.loads(path.read_text()):
            params.append(pytest.param(set_name, case, False, id=f"{set_name}/{case['id']}"))
            legacy = case.get("legacy_tool_args")
            if legacy and legacy != case["tool_args"]:
                params.append(pytest.param(set_name, case, True, id=f"{set_name}/{case['id']}[legacy]"))
    if not params:
        params.append(pytest.param(None, None, False, id="no-data", marks=pytest.mark.skip(
            reason=f"conformance data not found at {ROOT} (set ESPTK_CONFORMANCE to its folder)")))
    return params


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _expected_bytes(set_dir: Path, rel: str) -> bytes:
    data = (set_dir / rel).read_bytes()
    return gzip.decompress(data) if rel.endswith(".gz") else data


@pytest.mark.parametrize(("set_name", "case", "legacy"), _cases())
def test_case(set_name: str, case: dict, legacy: bool, tmp_path: Path) -> None:
    set_dir = ROOT / set_name
    din, dout = tmp_path / "in", tmp_path / "out"
    din.mkdir()
    dout.mkdir()
    for name in case["inputs"]:
        shutil.copyfile(set_dir / "inputs" / name, din / name)
    before = _files(din)
    args = case["legacy_tool_args"] if legacy else case["tool_args"]
    argv = [a.replace("{in}", str(din)).replace("{out}", str(dout)) for a in args]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESPTOOL_", "ESPTK_"))}
    proc = subprocess.run([sys.executable, "-m", "esptk", *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    left = sorted(_files(dout)) + sorted(_files(din) - before)
    if case["expect_fail"]:
        assert proc.returncode == case["esptool_exit_code"], proc.stderr
        assert proc.stderr.strip(), "a failure must say why"
        assert not left, f"files left behind after a failure: {left}"
        return
    assert proc.returncode == 0, proc.stderr
    for key, want in case["outputs"].items():
        path = Path(key.replace("{in}", str(din)).replace("{out}", str(dout)))
        assert path.is_file(), f"missing output {key}"
        got = path.read_bytes()
        if hashlib.sha256(got).hexdigest() != want:
            exp = _expected_bytes(set_dir, case["expected_files"][key])
            diff = next((i for i, (x, y) in enumerate(zip(got, exp, strict=False)) if x != y), min(len(got), len(exp)))
            pytest.fail(f"{key}: {len(got)} bytes vs {len(exp)} expected, first difference at 0x{diff:x}")
    produced = {"{out}/" + f for f in _files(dout)} | {"{in}/" + f for f in _files(din) - before}
    assert produced <= set(case["outputs"]), f"unexpected extra files: {sorted(produced - set(case['outputs']))}"
    if "stdout" in case:
        expected = _expected_bytes(set_dir, case["stdout"]["file"]).decode()
        ours = {line.rstrip() for line in proc.stdout.splitlines()}
        for line in expected.splitlines():
            if line.startswith(FACT_PREFIXES):
                assert line.rstrip() in ours, f"image-info does not report: {line}"
