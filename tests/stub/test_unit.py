"""The compiled SLIP, inflate and MD5 code, run under QEMU against Python's zlib and hashlib."""

from __future__ import annotations

import hashlib
import random
import struct
import zlib

import pytest

from .harness import RANDOM_CHUNKS, UnitHarness

INF_DONE = 1
INF_MORE = 0
INF_ERR_HEADER = -1
INF_ERR_DATA = -2
INF_ERR_ADLER = -3


def firmware_like(size: int, seed: int) -> bytes:
    """Instruction-like words, string tables and 0xFF padding: compresses like real images."""
    rng = random.Random(seed)
    out = bytearray()
    words = [rng.getrandbits(32) for _ in range(200)]
    while len(out) < size:
        kind = rng.random()
        if kind < 0.6:
            out += b"".join(struct.pack("<I", rng.choice(words) ^ rng.getrandbits(6)) for _ in range(32))
        elif kind < 0.8:
            out += b"error: %d in %s\n\0" % (rng.randrange(1000), rng.choice([b"flash", b"wifi", b"uart"]))
        elif kind < 0.9:
            out += b"\xff" * rng.randrange(64, 2048)
        else:
            out += rng.randbytes(rng.randrange(16, 256))
    return bytes(out[:size])


CASES = {
    "random": lambda: random.Random(1).randbytes(150_000),
    "firmware": lambda: firmware_like(400_000, 2),
    "zeros": lambda: bytes(100_000),
    "empty": lambda: b"",
    "one-byte": lambda: b"x",
    "long-runs": lambda: b"abc" * 40_000 + b"\xff" * 70_000,
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("level", [0, 1, 9])
def test_inflate_whole(unit: UnitHarness, name: str, level: int) -> None:
    data = CASES[name]()
    status, out = unit.inflate(zlib.compress(data, level))
    assert status == INF_DONE
    assert out == data


@pytest.mark.parametrize("chunks", [1, 7, 4096, RANDOM_CHUNKS | 12345, RANDOM_CHUNKS | 999])
def test_inflate_in_pieces(unit: UnitHarness, chunks: int) -> None:
    data = firmware_like(200_000 if chunks != 1 else 60_000, chunks)
    status, out = unit.inflate(zlib.compress(data, 9), chunks)
    assert status == INF_DONE
    assert out == data


def test_inflate_fixed_huffman_and_stored_blocks(unit: UnitHarness) -> None:
    data = firmware_like(100_000, 7)
    c = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_FIXED)
    fixed = c.compress(data) + c.flush()
    assert unit.inflate(fixed, 333) == (INF_DONE, data)
    # Full flushes split the stream into blocks that end byte aligned, with empty stored blocks.
    c = zlib.compressobj(6)
    pieces = [c.compress(data[i:i + 5000]) + c.flush(zlib.Z_FULL_FLUSH) for i in range(0, len(data), 5000)]
    stream = b"".join(pieces) + c.flush()
    assert unit.inflate(stream, RANDOM_CHUNKS | 5) == (INF_DONE, data)


def test_inflate_rejects_bad_header(unit: UnitHarness) -> None:
    stream = bytearray(zlib.compress(b"hello" * 100))
    stream[0] = 0x79  # CM = 9
    assert unit.inflate(bytes(stream))[0] == INF_ERR_HEADER
    stream = bytearray(zlib.compress(b"hello" * 100))
    stream[1] ^= 1  # header check fails
    assert unit.inflate(bytes(stream))[0] == INF_ERR_HEADER
    assert unit.inflate(b"\x78\xbb" + zlib.compress(b"x")[2:])[0] == INF_ERR_HEADER  # preset dictionary


def test_inflate_detects_corrupt_checksum(unit: UnitHarness) -> None:
    data = firmware_like(50_000, 3)
    stream = bytearray(zlib.compress(data))
    stream[-1] ^= 0x55
    assert unit.inflate(bytes(stream))[0] == INF_ERR_ADLER
    stream = bytearray(zlib.compress(data))
    stream[-4] ^= 0x01
    assert unit.inflate(bytes(stream))[0] == INF_ERR_ADLER


def test_inflate_truncated_stream_is_never_done(unit: UnitHarness) -> None:
    data = firmware_like(80_000, 4)
    stream = zlib.compress(data, 9)
    for cut in (1, 2, 3, len(stream) // 2, len(stream) - 5, len(stream) - 1):
        status, out = unit.inflate(stream[:cut], RANDOM_CHUNKS | cut)
        assert status == INF_MORE, cut
        assert data.startswith(out)


def test_inflate_garbage_fails_cleanly(unit: UnitHarness) -> None:
    rng = random.Random(9)
    outcomes = set()
    for i in range(60):
        body = rng.randbytes(rng.randrange(1, 3000))
        # A valid header so the decoder gets to the block data.
        status, _ = unit.inflate(b"\x78\x9c" + body, RANDOM_CHUNKS | i)
        assert status in (INF_MORE, INF_ERR_DATA, INF_ERR_ADLER)
        outcomes.add(status)
    assert INF_ERR_DATA in outcomes
    # Flipped bits in a real stream: never reported as a good stream with wrong data.
    data = firmware_like(30_000, 5)
    good = zlib.compress(data, 9)
    for _ in range(40):
        bad = bytearray(good)
        bad[rng.randrange(2, len(bad) - 4)] ^= 1 << rng.randrange(8)
        status, out = unit.inflate(bytes(bad), 0)
        assert status != INF_DONE or out == data


def test_inflate_distance_beyond_output_rejected(unit: UnitHarness) -> None:
    # Fixed block: literal 'a', then length 3 distance 2 (only 1 byte of output exists).
    bits: list[int] = []

    def put(value: int, n: int) -> None:
        bits.extend((value >> i) & 1 for i in range(n))

    def put_code(code: int, n: int) -> None:  # Huffman codes go most significant bit first
        bits.extend((code >> (n - 1 - i)) & 1 for i in range(n))

    put(1, 1)
    put(1, 2)
    put_code(0x30 + ord("a"), 8)
    put_code(1, 7)  # symbol 257: length 3
    put_code(1, 5)  # distance code 1: distance 2
    put_code(0, 7)  # end of block
    raw = bytearray()
    for i in range(0, len(bits), 8):
        raw.append(sum(b << j for j, b in enumerate(bits[i:i + 8])))
    assert unit.inflate(b"\x78\x9c" + bytes(raw) + b"\0\0\0\0")[0] == INF_ERR_DATA


@pytest.mark.parametrize("size", [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 300_000])
def test_md5_sizes(unit: UnitHarness, size: int) -> None:
    data = random.Random(size).randbytes(size)
    assert unit.md5(data) == hashlib.md5(data).digest()


@pytest.mark.parametrize("chunks", [1, 3, 64, RANDOM_CHUNKS | 77])
def test_md5_in_pieces(unit: UnitHarness, chunks: int) -> None:
    data = random.Random(chunks).randbytes(20_000)
    assert unit.md5(data, chunks) == hashlib.md5(data).digest()


def test_slip_encode(unit: UnitHarness) -> None:
    assert unit.slip_encode(b"\x01\xc0\x02\xdb\x03") == b"\xc0\x01\xdb\xdc\x02\xdb\xdd\x03\xc0"
    data = random.Random(3).randbytes(5000)
    expect = b"\xc0" + data.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"
    assert unit.slip_encode(data) == expect


def test_slip_decode_frames_and_noise(unit: UnitHarness) -> None:
    wire = b"boot noise\xc0ab\xdb\xdc\xdb\xdd\xc0\xc0\xc0\xc0xyz\xc0"
    assert unit.slip_decode(wire) == [b"ab\xc0\xdb", b"xyz"]


def test_slip_decode_errors(unit: UnitHarness) -> None:
    assert unit.slip_decode(b"\xc0a\xdb\x01b\xc0\xc0ok\xc0") == [-2, b"ok"]
    assert unit.slip_decode(b"\xc0" + b"x" * 20 + b"\xc0\xc0short\xc0", max_len=10) == [-1, b"short"]


def test_slip_round_trip(unit: UnitHarness) -> None:
    rng = random.Random(11)
    frames = [rng.randbytes(rng.randrange(1, 250)) + b"\xc0\xdb" for _ in range(30)]
    wire = b"".join(unit.slip_encode(f) for f in frames)
    assert unit.slip_decode(wire) == frames
