from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from esptk.protocol.slip import SlipDecoder, encode


def test_escapes_delimiter_and_escape_bytes() -> None:
    assert encode(b"\xc0\xdb\x01") == b"\xc0\xdb\xdc\xdb\xdd\x01\xc0"


@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=8), st.integers(1, 64))
def test_frames_survive_any_chunking(frames: list[bytes], chunk: int) -> None:
    wire = b"".join(encode(f) for f in frames)
    dec = SlipDecoder()
    got = []
    for i in range(0, len(wire), chunk):
        got.extend(dec.feed(wire[i : i + chunk]))
    assert got == frames
    assert not dec.noise


def test_text_between_frames_is_kept_as_noise() -> None:
    dec = SlipDecoder()
    got = list(dec.feed(b"rst:0x1 (POWERON_RESET),boot:0x3\r\n" + encode(b"abc") + b"junk"))
    assert got == [b"abc"]
    assert b"boot:0x3" in dec.noise and dec.noise.endswith(b"junk")


def test_bad_escape_drops_the_frame_and_decoding_goes_on() -> None:
    dec = SlipDecoder()
    got = list(dec.feed(b"\xc0ab\xdb\x01cd\xc0" + encode(b"ok")))
    assert got == [b"ok"]
    assert dec.errors and "escape" in dec.errors[0]


def test_empty_frame_between_back_to_back_frames_is_skipped() -> None:
    dec = SlipDecoder()
    assert list(dec.feed(b"\xc0\xc0" + encode(b"x"))) == [b"x"]
