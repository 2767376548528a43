"""Random ELF files built by esptk and by esptool 5.6 must give the same bytes (needs esptool)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esptk.errors import EsptkError
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


def _many_sections(seed: int) -> list[tuple[str, int, bytes]]:
    """Up to 20 sections of an RTOS-like application: runs of sections that follow each other
    (after 4-byte padding) in IRAM, DRAM and RTC memory, flash sections in their own pages, listed
    in a shuffled ELF order, with lengths that are often not multiples of 4."""
    r = random.Random(seed)
    ram_bases = [0x3FFB0000, 0x3FFC0000, 0x40080000, 0x40090000, 0x400C0000, 0x50000000, 0x3FF80000]
    secs: list[tuple[str, int, bytes]] = []
    for base in r.sample(ram_bases, r.randint(1, 4)):
        addr = base + r.randint(0, 0x400) * 4
        for _ in range(r.randint(1, 5)):
            data = r.randbytes(r.choice([r.randint(1, 16), r.randint(1, 0x400), r.randint(0x400, 0x2000)]))
            secs.append((f".ram{len(secs)}", addr, data))
            addr += len(data) + (-len(data)) % 4 + r.choice([0, 0, 0, 4, 0x100])
    for page in r.sample(range(1, 60), r.randint(0, 4)):
        base = r.choice([0x3F400000, 0x400D0000])
        addr = base + page * 0x10000 + r.choice([0, 0x18, 0x20, 0xFFDC, r.randint(0, 0x3FFF) * 4])
        size = r.choice([r.randint(1, 0x200), r.randint(0x1000, 0x6000)])
        secs.append((f".flash{len(secs)}", addr, r.randbytes(size)))
    r.shuffle(secs)
    return secs[:20]


def _esptool_elf2image(elf_path: Path, out: Path, option: str) -> bytes | None:
    p = subprocess.run([str(ESPTOOL), "--chip", "esp32", "elf2image", *option.split(), "-o", str(out), str(elf_path)],
                       capture_output=True, text=True)
    return out.read_bytes() if p.returncode == 0 else None


@pytest.mark.parametrize("option", ["", "--ram-only-header"])
@pytest.mark.parametrize("seed", range(12))
def test_many_ram_and_flash_sections_match_esptool(tmp_path: Path, seed: int, option: str) -> None:
    elf_path = tmp_path / "a.elf"
    elf_path.write_bytes(make_elf(_many_sections(seed), entry=0x40080004))
    theirs = _esptool_elf2image(elf_path, tmp_path / "esptool.bin", option)
    try:
        e32 = REG.chip("esp32")
        ours = REG.chip_hook(e32).esptk_build_image(chip=e32, elf=ElfFile.load(str(elf_path)),
                                                    settings=OPTIONS[option])[0].data
    except EsptkError:
        ours = None
    assert ours == theirs  # the same image, or both refuse the ELF


def test_unaligned_flash_section_is_refused_like_esptool(tmp_path: Path) -> None:
    elf_path = tmp_path / "a.elf"
    elf_path.write_bytes(make_elf([(".text", 0x4032FFDC, b"a" * 0x2D7), (".rodata", 0x3F400023, b"b" * 0x11),
                                   (".data", 0x3FFB0000, b"d" * 16)]))
    for option in ("", "--ram-only-header"):
        assert _esptool_elf2image(elf_path, tmp_path / "esptool.bin", option) is None
        with pytest.raises(EsptkError, match="multiple of 4"):
            e32 = REG.chip("esp32")
            REG.chip_hook(e32).esptk_build_image(chip=e32, elf=ElfFile.load(str(elf_path)), settings=OPTIONS[option])


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
