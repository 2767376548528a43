"""The esptk_efuse hook: each chip plugin describes its own eFuses; core names none."""

from __future__ import annotations

from esptk.efuse import EfuseSupport
from esptk.plugins import Registry


def test_hook_esptk_efuse(registry: Registry) -> None:
    e32, e8 = registry.chip("esp32"), registry.chip("esp8266")
    support = registry.chip_hook(e32).esptk_efuse(chip=e32)
    assert isinstance(support, EfuseSupport)
    names = [f.name for f in support.layout.fields]
    assert len(names) == len(set(names)) == 52  # SECURITY.md 2.1: every row of the table
    assert [b.name for b in support.layout.blocks] == ["BLOCK0", "BLOCK1", "BLOCK2", "BLOCK3"]
    assert support.layout.field("DISABLE_JTAG").name == "JTAG_DISABLE"  # aliases resolve
    assert support.layout.block("flash_encryption").index == 1
    assert registry.chip_hook(e8).esptk_efuse(chip=e8) is None  # the ESP8266 has no eFuse tool support


def test_every_field_fits_its_block(registry: Registry) -> None:
    e32 = registry.chip("esp32")
    support = registry.chip_hook(e32).esptk_efuse(chip=e32)
    used: dict[int, int] = {}
    for f in support.layout.fields:
        if f.calculated or not f.bits:
            continue
        block = support.layout.block(f.block)
        bits = ((1 << f.bits) - 1) << f.start
        assert f.start + f.bits <= block.words * 32, f.name
        if f.name not in ("CUSTOM_MAC", "CUSTOM_MAC_CRC", "MAC_VERSION", "SECURE_VERSION") or f.block == 0:
            assert not used.get(f.block, 0) & bits, f"{f.name} overlaps another field"
        used[f.block] = used.get(f.block, 0) | bits
