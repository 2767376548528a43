"""The image hooks, called the way core calls them."""

from __future__ import annotations

import hashlib

import pytest

from esptk.errors import ImageError
from esptk.image.elf import ElfFile
from esptk.image.model import ImageSettings, Segment
from esptk.plugins import Registry


def test_hook_esptk_build_image(registry: Registry) -> None:
    e32, e8 = registry.chips["esp32"], registry.chips["esp8266"]
    elf = ElfFile.from_segments([Segment(0x3FFB0000, b"\x01\x02\x03\x04" * 8, ".dram0.data"),
                                 Segment(0x40080000, b"\x90" * 64, ".iram0.text")], entry=0x40080004)
    files = registry.chip_hook(e32).esptk_build_image(chip=e32, elf=elf, settings=ImageSettings(flash_mode="dio"))
    assert len(files) == 1
    image = files[0].data
    assert image[0] == 0xE9 and image[1] == 2 and image[2] == 2  # magic, two segments, dio
    assert int.from_bytes(image[4:8], "little") == 0x40080004
    assert image[-32:] == hashlib.sha256(image[:-32]).digest()  # appended digest
    files = registry.chip_hook(e8).esptk_build_image(chip=e8, elf=elf, settings=ImageSettings())
    assert files and files[0].data[0] == 0xE9


def test_hook_esptk_read_image(registry: Registry) -> None:
    e32 = registry.chips["esp32"]
    elf = ElfFile.from_segments([Segment(0x3FFB0000, b"abcd" * 4)], entry=0x40080000)
    image = registry.chip_hook(e32).esptk_build_image(chip=e32, elf=elf, settings=ImageSettings())[0].data
    info = registry.chip_hook(e32).esptk_read_image(chip=e32, data=image)
    assert info.entry == 0x40080000 and info.checksum_valid and info.digest_valid
    assert [(s.addr, s.length) for s in info.segments] == [(0x3FFB0000, 16)]
    broken = bytearray(image)
    broken[24 + 8] ^= 0xFF  # a byte of segment data: the checksum no longer matches
    assert not registry.chip_hook(e32).esptk_read_image(chip=e32, data=bytes(broken)).checksum_valid
    with pytest.raises(ImageError):
        registry.chip_hook(e32).esptk_read_image(chip=e32, data=b"\xe9\x05" + bytes(20))
