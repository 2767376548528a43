"""Properties of the chip plugins' image builders, checked by reading the images back."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esptk.cli import main
from esptk.image.elf import ElfFile
from esptk.image.model import ImageSettings, Segment
from esptk.plugins import make_plugin_manager

pytest.importorskip("esptk_esp32")
pytest.importorskip("esptk_esp8266")

REG = make_plugin_manager()


def _words(min_size: int, max_size: int) -> st.SearchStrategy[bytes]:
    """Data of a random multiple-of-4 length (the content is cheap pseudo-random filler)."""
    return st.builds(lambda n, seed: random.Random(seed).randbytes(4 * n),
                     st.integers(min_value=min_size // 4, max_value=max_size // 4), st.integers(0, 1000))


# flash-mapped segments in distinct 64 KiB pages, RAM segments in DRAM and IRAM
flash_segments = st.lists(st.tuples(st.integers(0, 63), st.integers(0, 0xFFF0 // 4), _words(4, 0x3000)),
                          max_size=3, unique_by=lambda t: t[0])
ram_segments = st.lists(st.tuples(st.sampled_from([0x3FFB0000, 0x3FFC0000, 0x40080000, 0x40090000]),
                                  _words(4, 0x9000)), max_size=3, unique_by=lambda t: t[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flash_segments, ram_segments, st.booleans(), st.sampled_from([0, 2]))
def test_esp32_image_reads_back(flash: list, ram: list, digest: bool, secure_pad: int) -> None:
    segs = [Segment(0x3F400000 + page * 0x10000 + off * 4, data) for page, off, data in flash]
    segs += [Segment(addr, data) for addr, data in ram]
    chip = REG.chip("esp32")
    elf = ElfFile.from_segments(segs, entry=0x40080000)
    image = REG.chip_hook(chip).esptk_build_image(chip=chip, elf=elf, settings=ImageSettings(
        append_digest=digest, secure_pad=secure_pad if digest else 0))[0].data
    info = REG.chip_hook(chip).esptk_read_image(chip=chip, data=image)
    assert info.checksum_valid
    assert info.digest_valid is (True if digest else None)
    assert len(image) == info.data_length + (32 if digest else 0)
    for s in info.segments:
        if 0x3F400000 <= s.addr < 0x3F800000:  # data maps 1:1 through the MMU
            assert (s.file_offset + 8) % 0x10000 == s.addr % 0x10000
    # every input byte is in the image, at its address (RAM segments may be split)
    loaded = {}
    for s in info.segments:
        if s.addr:
            loaded[s.addr] = image[s.file_offset + 8:s.file_offset + 8 + s.length]
    for seg in segs:
        pieces = b"".join(v for a, v in sorted(loaded.items()) if seg.addr <= a < seg.addr + len(seg.data))
        assert pieces[:len(seg.data)] == seg.data
    if secure_pad and digest:
        assert len(image) % 0x10000 == 0  # the signed image (digest included) ends a 64 KiB page


def test_esp8266_v2_crc_and_checksum() -> None:
    chip = REG.chip("esp8266")
    segs = [Segment(0x40100000, b"\x01" * 12), Segment(0x40210000, b"\x02" * 20)]
    image = REG.chip_hook(chip).esptk_build_image(chip=chip, elf=ElfFile.from_segments(segs, 0x40100004),
                                       settings=ImageSettings(version=2))[0]
    assert image.suffix == "-0x10000.bin" and image.data[0] == 0xEA
    info = REG.chip_hook(chip).esptk_read_image(chip=chip, data=image.data)
    assert info.version == 2 and info.checksum_valid and info.extras["crc32"]["valid"]
    assert [s.length for s in info.segments] == [32, 12]  # irom padded to 16 bytes


def test_image_info_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chip = REG.chip("esp32")
    elf = ElfFile.from_segments([Segment(0x3FFB0000, b"x" * 8)], 0)
    image = REG.chip_hook(chip).esptk_build_image(chip=chip, elf=elf, settings=ImageSettings(flash_size="4MB"))[0].data
    path = tmp_path / "a.bin"
    path.write_bytes(image[:-1] + bytes([image[-1] ^ 0xFF]))  # corrupt the digest
    assert main(["image-info", "--json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    img = out["image"]
    assert out["chip"] == "esp32" and img["flash_size"] == "4MB"
    assert img["checksum"]["valid"] is True and img["validation_hash"]["valid"] is False
    assert img["extended_header"]["chip_id"] == 0 and img["segments"][0]["memory_types"][-1] == "DRAM"
