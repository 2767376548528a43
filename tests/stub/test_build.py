"""The build: committed blobs match a rebuild, carry what the host needs, and the ELF checks bite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .qemu import BUILD, GCC, ROOT

sys.path.insert(0, str(BUILD.parent))
from elf2json import ElfCheckError, check_elf  # noqa: E402

BLOBS = {
    "esp8266": (ROOT / "plugins/esp8266/src/esptk_esp8266/stub/esp8266.json", (0x40104800, 0x40108000),
                (0x3FFE8100, 0x3FFFC000)),
    "esp32": (ROOT / "plugins/esp32/src/esptk_esp32/stub/esp32.json", (0x40080000, 0x40084000),
              (0x3FFCA000, 0x3FFE0000)),
}


def test_committed_blobs_are_reproducible() -> None:
    r = subprocess.run([sys.executable, str(BUILD), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("up to date") == 3  # both stubs and the ESP8266 stage-1 loader


def test_stage1_blob() -> None:
    """The ESP8266 stage-1 loader: small, at its own addresses, clear of the main stub's segments."""
    from esptk.stub import StubImage

    folder = ROOT / "plugins/esp8266/src/esptk_esp8266/stub"
    s1 = StubImage.from_json((folder / "esp8266-stage1.json").read_text())
    main = StubImage.from_json((folder / "esp8266.json").read_text())
    assert len(s1.text) + len(s1.data) <= 0x600
    assert 0x4010E000 <= s1.text_start and s1.text_start + len(s1.text) <= 0x4010E600
    assert s1.text_start < s1.entry < s1.text_start + len(s1.text)
    assert 0x3FFFA000 <= s1.data_start and s1.data_start + len(s1.data) <= 0x3FFFC000
    stage1_ram = [(s1.text_start, s1.text_start + len(s1.text)), (s1.data_start, 0x3FFFC000)]  # to its stack top
    for start, data in ((main.text_start, main.text), (main.data_start, main.data)):
        assert all(start + len(data) <= lo or hi <= start for lo, hi in stage1_ram)


@pytest.mark.parametrize("chip", sorted(BLOBS))
def test_blob_layout(chip: str) -> None:
    path, iram, dram = BLOBS[chip]
    d = json.loads(path.read_text())
    from esptk.stub import StubImage

    img = StubImage.from_json(path.read_text())
    assert iram[0] <= img.text_start and img.text_start + len(img.text) <= iram[1]
    assert img.text_start < img.entry < img.text_start + len(img.text)
    assert dram[0] <= img.data_start and img.data_start + len(img.data) <= dram[1]
    assert img.bss_start is not None and img.bss_start >= img.data_start + len(img.data)
    assert img.protocol_version == 2
    assert d["build"]["toolchain"]["gcc"].startswith("xtensa-lx106-elf-gcc")
    assert len(d["build"]["source_sha256"]) == 64
    assert d["build"]["stack_room"] >= d["build"]["stack_bound"]


def test_elf_check_rejects_data_in_iram(tmp_path: Path) -> None:
    src = tmp_path / "t.c"
    src.write_text("const char table[4] = {1, 2, 3, 4};\nint f(int i) { return table[i]; }\n")
    ld = tmp_path / "t.ld"
    ld.write_text("MEMORY { iram (rx) : ORIGIN = 0x40104800, LENGTH = 0x3800 }\n"
                  "SECTIONS { .text : { *(.literal .text .literal.* .text.* .rodata .rodata.*) } > iram }\n"
                  "_stack_top = 0; _bss_end = 0;\n")
    elf = tmp_path / "t.elf"
    subprocess.run([GCC, "-Os", "-nostdlib", "-mtext-section-literals", "-Wl,-e,f", "-T", str(ld), str(src),
                    "-o", str(elf)], check=True)
    with pytest.raises(ElfCheckError, match="table placed in IRAM"):
        check_elf(elf, (0x40104800, 0x40108000), (0x3FFE8100, 0x3FFFC000), 0)


def test_elf_check_rejects_code_outside_the_window(tmp_path: Path) -> None:
    src = tmp_path / "t.c"
    src.write_text("int f(int i) { return i * 3 + 1; }\n")
    ld = tmp_path / "t.ld"
    ld.write_text("MEMORY { iram (rx) : ORIGIN = 0x40107FFC, LENGTH = 0x100 }\n"
                  "SECTIONS { .text : { *(.literal .text .literal.* .text.*) } > iram }\n")
    elf = tmp_path / "t.elf"
    subprocess.run([GCC, "-Os", "-nostdlib", "-mtext-section-literals", "-Wl,-e,f", "-T", str(ld), str(src),
                    "-o", str(elf)], check=True)
    with pytest.raises(ElfCheckError, match="does not fit IRAM"):
        check_elf(elf, (0x40104800, 0x40108000), (0x3FFE8100, 0x3FFFC000), 0)
