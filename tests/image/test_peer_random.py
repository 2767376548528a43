"""Random ELF files built by esptk and by esptool 5.6 must give the same bytes (needs esptool)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esptk.image.elf import ElfFile
from esptk.image.model import ImageSettings
from esptk.plugins import make_plugin_manager

from .elfwriter import make_elf

pytest.importorskip("esptk_esp32")
ESPTOOL = shutil.which("esptool", path=str(Path(sys.executable).parent)) or shutil.which("esptool")
pytestmark = [pytest.mark.peer, pytest.mark.skipif(ESPTOOL is None, reason="esptool is not installed")]
REG = make_plugin_manager()

OPTIONS = {
    "": ImageSettings(),
    "--secure-pad-v2": ImageSettings(secure_pad=2),
    "--ram-only-header": ImageSettings(ram_only_header=True),
    "--dont-append-digest": ImageSettings(append_digest=False),
}


def _random_sections(seed: int) -> list[tuple[str, int, bytes]]:
    """Flash-mapped, RAM and RTC sections at awkward offsets and sizes (no overlaps)."""
    r = random.Random(seed)
    bases = {"drom": 0x3F400000, "irom": 0x400D0000, "dram": 0x3FFB0000, "iram": 0x40080000, "rtc": 0x50000000}
    secs: list[tuple[str, int, bytes]] = []
    pages = set()
    for i in range(r.randint(1, 6)):
        kind = r.choice(list(bases))
        if kind in ("drom", "irom"):
            page = r.randint(0, 40)
            if page in pages:
                continue
            pages.add(page)
            addr = bases[kind] + page * 0x10000 + r.choice([0, 8, 0x18, 0x20, 0xFFF0, 0xFFDC, r.randint(0, 0x3FFF) * 4])
        else:
            addr = bases[kind] + r.randint(0, 0x800) * 4 + (i * 0x10000) % 0x20000
        data = r.randbytes(r.choice([r.randint(1, 64), r.randint(1, 0x3000), r.randint(0x8000, 0x14000), 0xFFD4]))
        if all(addr + len(data) <= a or a + len(d) <= addr for _, a, d in secs):
            secs.append((f".s{i}", addr, data))
    return secs


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("seed", range(3))
def test_random_esp32_elf_matches_esptool(tmp_path: Path, seed: int, option: str) -> None:
    elf_path = tmp_path / "a.elf"
    elf_path.write_bytes(make_elf(_random_sections(seed * 7 + len(option)), entry=0x40080004))
    out = tmp_path / "esptool.bin"
    subprocess.run([str(ESPTOOL), "--chip", "esp32", "elf2image", *option.split(), "-o", str(out), str(elf_path)],
                   check=True, capture_output=True)
    chip = REG.chip("esp32")
    ours = REG.chip_hook(chip).esptk_build_image(chip=chip, elf=ElfFile.load(str(elf_path)), settings=OPTIONS[option])
    assert ours[0].data == out.read_bytes()


@pytest.mark.parametrize("offset", [None, 0xD0])
def test_app_descriptor_gets_the_elf_sha256_like_esptool(tmp_path: Path, offset: int | None) -> None:
    r = random.Random(5)
    sections = [(".dram0.data", 0x3FFB0100, r.randbytes(300)), (".flash.appdesc", 0x3F400020, bytes(256)),
                (".flash.text", 0x400D0020, r.randbytes(500)), (".dram0.bootdesc", 0x3FFB0000, bytes(80))]
    elf_path = tmp_path / "a.elf"
    elf_path.write_bytes(make_elf(sections))
    out = tmp_path / "esptool.bin"
    extra = [] if offset is None else ["--elf-sha256-offset", hex(offset)]
    subprocess.run([str(ESPTOOL), "--chip", "esp32", "elf2image", *extra, "-o", str(out), str(elf_path)],
                   check=True, capture_output=True)
    elf = ElfFile.load(str(elf_path))
    e32 = REG.chip("esp32")
    ours = REG.chip_hook(e32).esptk_build_image(chip=e32, elf=elf,
                                                settings=ImageSettings(elf_sha256_offset=offset))[0].data
    assert ours == out.read_bytes()
    at = 0xB0 if offset is None else offset
    assert ours[at:at + 32] == elf.sha256
