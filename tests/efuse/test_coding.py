"""ESP32 eFuse encodings against the fact sheet's vectors (SECURITY.md 1.4, 2.2, 3)."""

from __future__ import annotations

import pytest

from esptk_esp32.efuse import ThreeFour, crc8, decode_words
from esptk_esp32.efuse_layout import BLOCKS


@pytest.mark.parametrize(("mac", "crc"), [("aa:cd:ef:11:22:33", 0x63), ("aa:cd:ef:01:02:03", 0x56),
                                          ("48:63:92:15:72:16", 0x75), ("94:b9:7e:5a:6e:58", 0xE2)])
def test_mac_crc8_vectors(mac: str, crc: int) -> None:
    assert crc8(bytes.fromhex(mac.replace(":", ""))) == crc


def test_crc8_check_value() -> None:
    assert crc8(b"123456789") == 0xA1


def test_three_four_encoding_vector() -> None:
    words = ThreeFour().encode(BLOCKS[1], bytes(range(24)))
    assert words == [0x03020100, 0x1E010504, 0x09080706, 0x2F010B0A, 0x0F0E0D0C, 0x32011110, 0x15141312,
                     0x41011716]
    data, ok = decode_words(words)
    assert data == bytes(range(24)) and ok
    words[1] ^= 1 << 16  # a flipped check byte
    assert not decode_words(words)[1]


def test_three_four_refuses_rewriting_a_used_group_but_not_an_identical_one() -> None:
    scheme, block = ThreeFour(), BLOCKS[3]
    old = bytes(6) + bytes([1]) + bytes(17)  # group 1 holds data
    same = scheme.merge(block, old, old[:6] + old[6:12] + bytes([5]) + bytes(11))
    assert same[1] is None and same[0][12] == 5 and not any(same[0][6:12])  # only group 2 is written
    refused = scheme.merge(block, old, old[:7] + bytes([2]) + bytes(16))
    assert refused[1] is not None and "forbidden" in refused[1]
