"""elf2image takes only ELF files built for the chip's CPU (Xtensa for ESP8266 and ESP32)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import Result
from .elfwriter import make_elf

pytest.importorskip("esptk_esp32")
pytest.importorskip("esptk_esp8266")

RISCV, X86 = 0xF3, 0x03


def _elf(machine: int | None = None, ei_class: int = 1, ei_data: int = 1) -> bytes:
    data = bytearray(make_elf([(".data", 0x3FFE8000, b"\x02" * 16), (".text", 0x40100000, b"\x01" * 16)],
                              entry=0x40100000))
    if machine is not None:
        data[18:20] = machine.to_bytes(2, "little")
    data[4], data[5] = ei_class, ei_data
    return bytes(data)


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
@pytest.mark.parametrize(("what", "elf", "words"), [
    ("RISC-V", _elf(RISCV), "RISC-V"),
    ("x86", _elf(X86), "machine 0x3"),
    ("64-bit", _elf(ei_class=2), "32-bit little-endian"),
    ("big-endian", _elf(ei_data=2), "32-bit little-endian"),
])
def test_elf_for_another_cpu_is_refused_without_output(cli: Callable[..., Result], tmp_path: Path, chip: str,
                                                       what: str, elf: bytes, words: str) -> None:
    src = tmp_path / "app.elf"
    src.write_bytes(elf)
    r = cli("--chip", chip, "elf2image", str(src))
    assert r.code == 2, r.err
    first = r.err.splitlines()[0]
    assert first.startswith("error:") and words in first and "hint:" in r.err
    assert os.listdir(tmp_path) == ["app.elf"]


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_xtensa_elf_is_still_accepted(cli: Callable[..., Result], tmp_path: Path, chip: str) -> None:
    src = tmp_path / "app.elf"
    src.write_bytes(_elf())
    assert cli("--chip", chip, "elf2image", str(src)).code == 0
    assert len(os.listdir(tmp_path)) > 1
