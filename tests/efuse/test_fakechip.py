"""A third party's chip with its own tiny eFuse layout: ``esptk efuse`` works on it, core unchanged."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import ROOT, run_esptk
from ..peer.conftest import Server, start_server
from ..plugins.test_third_party import pip

FAKE = ROOT / "tests" / "plugins" / "esptk-fakechip"


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[Server]:
    r = pip("install", "--no-deps", "--no-build-isolation", str(FAKE))
    assert r.returncode == 0, r.stderr
    try:
        srv = start_server("fakechip", "tcp", tmp_path / "flash.bin")
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        r = pip("uninstall", "-y", "esptk-fakechip", python=sys.executable)
        assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_efuse_commands_work_on_a_third_party_chip(fake_server: Server) -> None:
    def efuse(*args: str) -> tuple[int, str, str]:
        r = run_esptk("-q", "-p", fake_server.endpoint, "--chip", "fakechip", "--before", "no_reset", "efuse",
                      *args)
        return r.code, r.out, r.err

    code, out, err = efuse("summary", "--format", "json")
    assert code == 0, err
    assert sorted(json.loads(out)) == ["BOARD_ID", "LOCKED", "SERIAL", "WR_DIS"]
    assert efuse("burn", "ID", "0x42", "SERIAL", "0a0b0c", "--do-not-confirm")[0] == 0
    assert efuse("write-protect", "BOARD_ID", "--do-not-confirm")[0] == 0
    fields = json.loads(efuse("summary", "--format", "json")[1])
    assert fields["BOARD_ID"]["value"] == 0x42 and fields["BOARD_ID"]["writeable"] is False
    assert fields["SERIAL"]["value"] == "0a 0b 0c"
    code, _out, err = efuse("burn", "BOARD_ID", "0xff", "--do-not-confirm")
    assert code == 1 and "write-protected" in err
