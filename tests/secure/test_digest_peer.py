"""Secure boot v1 bootloader digest (--iv): byte-identical with the real espsecure (SECURITY.md §5.3)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED

from .conftest import esp32_image, espsecure

pytestmark = pytest.mark.peer


def _both(cli, tmp: Path, key: bytes, iv: bytes, image: bytes) -> tuple[bytes, bytes]:
    for name, data in (("key.bin", key), ("iv.bin", iv), ("image.bin", image)):
        (tmp / name).write_bytes(data)
    theirs, mine = tmp / "theirs.bin", tmp / "mine.bin"
    res = espsecure("digest-secure-bootloader", "--keyfile", tmp / "key.bin", "--iv", tmp / "iv.bin",
                    "--output", theirs, tmp / "image.bin")
    assert res.code == 0, res.out
    r = cli("secure", "digest_secure_bootloader", "-k", str(tmp / "key.bin"), "--iv", str(tmp / "iv.bin"),
            "-o", str(mine), str(tmp / "image.bin"))
    assert r.code == 0, r.err
    return theirs.read_bytes(), mine.read_bytes()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.binary(min_size=32, max_size=32), st.binary(min_size=24, max_size=24)),
       iv=st.one_of(st.binary(min_size=128, max_size=128), st.binary(min_size=1, max_size=200)),
       payload=st.binary(min_size=1, max_size=3000), hashed=st.booleans())
def test_digest_matches_espsecure(tmp_path: Path, cli, key: bytes, iv: bytes, payload: bytes, hashed: bool) -> None:
    theirs, mine = _both(cli, tmp_path, key, iv, esp32_image(payload, hashed))
    assert mine == theirs
    assert len(mine) % 128 == 0 and mine[0x1000 - 1] == 0xFF


def test_digest_changes_with_every_input(tmp_path: Path, cli) -> None:
    image = esp32_image(bytes(range(256)) * 4, True)
    key, iv = bytes(range(32)), bytes(range(128))
    _, base = _both(cli, tmp_path, key, iv, image)
    digest = base[128:192]
    for other in ((bytes(32), iv, image), (key, bytes(128), image), (key, iv, esp32_image(bytes(1024), True))):
        _, out = _both(cli, tmp_path, *other)
        assert out[128:192] != digest


def test_a_real_bootloader_image(tmp_path: Path, cli) -> None:
    """A bootloader esptool built (from the shared conformance inputs)."""
    image = SHARED / "conformance" / "public" / "inputs" / "esp32-bootloader-secure-pad-v2.bin"
    if not image.exists():
        pytest.skip(f"{image} is absent (the shared conformance data lives next to the repository)")
    theirs, mine = _both(cli, tmp_path, hashlib.sha256(b"k").digest(), hashlib.sha512(b"iv").digest() * 2,
                         image.read_bytes())
    assert mine == theirs


def test_not_an_image_is_refused_without_output(tmp_path: Path, cli) -> None:
    (tmp_path / "key.bin").write_bytes(bytes(32))
    (tmp_path / "raw.bin").write_bytes(b"\x00" * 512)
    r = cli("secure", "digest-secure-bootloader", "-k", str(tmp_path / "key.bin"), "-o", str(tmp_path / "o.bin"),
            str(tmp_path / "raw.bin"))
    assert r.code == 1 and "not an ESP32 image" in r.err
    assert not (tmp_path / "o.bin").exists()
    assert espsecure("digest-secure-bootloader", "-k", tmp_path / "key.bin", "-o", tmp_path / "p.bin",
                     tmp_path / "raw.bin").code != 0


def test_without_iv_the_digest_is_random_but_well_formed(tmp_path: Path, cli) -> None:
    (tmp_path / "key.bin").write_bytes(bytes(range(32)))
    (tmp_path / "image.bin").write_bytes(esp32_image(b"\x11" * 600, False))
    outs = []
    for n in (1, 2):
        out = tmp_path / f"o{n}.bin"
        r = cli("secure", "digest-secure-bootloader", "-k", str(tmp_path / "key.bin"), "-o", str(out),
                str(tmp_path / "image.bin"))
        assert r.code == 0, r.err
        outs.append(out.read_bytes())
    assert outs[0][:128] != outs[1][:128]
    # the IV it chose, given back with --iv, reproduces the digest: what espsecure computes for it
    (tmp_path / "iv.bin").write_bytes(outs[0][:128])
    theirs, _ = _both(cli, tmp_path, bytes(range(32)), outs[0][:128], esp32_image(b"\x11" * 600, False))
    assert theirs == outs[0]
