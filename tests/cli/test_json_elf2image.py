"""``esptk --json elf2image``: one JSON object on stdout, naming each file written (with its size and
SHA-256), or one JSON error object with the exit code (2 for an ELF that is not there), as for
merge-bin and make-image (tests/core/test_esptool_style.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import Result, run_esptk
from ..image.elfwriter import make_elf

Cli = Callable[..., Result]

ESP32_ELF = [(".iram0.text", 0x40080000, bytes(range(256)) * 4), (".dram0.data", 0x3FFB0000, b"\x11" * 96)]
#: ESP8266: RAM sections go to the 0x00000 file, the IROM section (0x40210000) to its own 0x10000 file
ESP8266_ELF = [(".text", 0x40100000, b"\x01\x02\x03\x04" * 64), (".irom0.text", 0x40210000, b"\x05" * 512)]


def one_json_object(out: str) -> dict[str, Any]:
    """stdout holds exactly one JSON object (json.loads refuses trailing text)."""
    obj = json.loads(out)
    assert isinstance(obj, dict), out
    return obj


def check_files(obj: dict[str, Any], expected: list[Path]) -> None:
    """The object names the expected files, in order, with the size and SHA-256 of what is on disk."""
    assert [Path(f["file"]) for f in obj["files"]] == expected
    for f, path in zip(obj["files"], expected, strict=True):
        data = path.read_bytes()
        assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("where", ["before", "after"], ids=["json-first", "json-after-command"])
def test_elf2image_json_names_the_image_written(cli: Cli, tmp_path: Path, where: str) -> None:
    elf = tmp_path / "app.elf"
    elf.write_bytes(make_elf(ESP32_ELF))
    out = tmp_path / "app.bin"
    args = ["elf2image", "-o", str(out), str(elf)]
    args = ["--json", *args] if where == "before" else [*args[:1], "--json", *args[1:]]
    r = cli("--chip", "esp32", *args)
    assert r.code == 0, r.err
    obj = one_json_object(r.out)
    assert obj["schema"]["major"] == 1 and obj["chip"] == "esp32" and "error" not in obj
    check_files(obj, [out])
    assert out.read_bytes()[0] == 0xE9  # an image


def test_elf2image_json_lists_both_esp8266_files(cli: Cli, tmp_path: Path) -> None:
    elf = tmp_path / "app.elf"
    elf.write_bytes(make_elf(ESP8266_ELF, entry=0x40100000))
    r = cli("--chip", "esp8266", "--json", "elf2image", "-o", str(tmp_path / "app-"), str(elf))
    assert r.code == 0, r.err
    obj = one_json_object(r.out)
    assert obj["chip"] == "esp8266"
    check_files(obj, [tmp_path / "app-0x00000.bin", tmp_path / "app-0x10000.bin"])
    assert (tmp_path / "app-0x00000.bin").read_bytes()[0] == 0xE9  # the image of the RAM sections
    assert (tmp_path / "app-0x10000.bin").read_bytes() == ESP8266_ELF[1][2]  # IROM, as it is


def test_elf2image_json_error_for_a_missing_elf(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "app.bin"
    r = cli("--chip", "esp32", "--json", "elf2image", "-o", str(out), str(tmp_path / "missing.elf"))
    assert r.code == 2
    obj = one_json_object(r.out)
    assert obj["exit_code"] == 2 and obj["type"] == "BadInputFile" and "files" not in obj
    assert "missing.elf" in obj["error"] and obj["hint"]
    assert "missing.elf" in r.err  # the human-readable error still goes to stderr
    assert not out.exists()


def test_elf2image_json_as_a_separate_process(tmp_path: Path) -> None:
    """As a build script runs it: stdout is nothing but the JSON object, success or failure."""
    elf = tmp_path / "app.elf"
    elf.write_bytes(make_elf(ESP32_ELF))
    ok = run_esptk("--chip", "esp32", "--json", "elf2image", "-o", "app.bin", "app.elf", cwd=tmp_path)
    assert ok.code == 0, ok.err
    obj = one_json_object(ok.out)
    assert [f["file"] for f in obj["files"]] == ["app.bin"]
    assert obj["files"][0]["sha256"] == hashlib.sha256((tmp_path / "app.bin").read_bytes()).hexdigest()
    bad = run_esptk("--chip", "esp32", "--json", "elf2image", "-o", "x.bin", "nothere.elf", cwd=tmp_path)
    assert bad.code == 2
    err = one_json_object(bad.out)
    assert err["exit_code"] == 2 and err["type"] == "BadInputFile" and "nothere.elf" in err["error"]
    assert not (tmp_path / "x.bin").exists()
