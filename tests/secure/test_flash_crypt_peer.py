"""ESP32 flash encryption: esptk and the real espsecure produce the same bytes (SECURITY.md §5.6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esptk.errors import UsageError
from esptk_esp32 import flash_crypt

from .conftest import espsecure

pytestmark = pytest.mark.peer

keys = st.one_of(st.binary(min_size=32, max_size=32), st.binary(min_size=24, max_size=24))
confs = st.integers(0, 15)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def placed_data(draw: st.DrawFn) -> tuple[int, bytes]:
    """Data of whole 16-byte blocks at a 16-aligned address inside the 16 MB the engine covers."""
    blocks = draw(st.integers(1, 96))
    data = draw(st.binary(min_size=16 * blocks, max_size=16 * blocks))
    address = draw(st.integers(0, ((1 << 24) - len(data)) // 16)) * 16
    return address, data


def _peer(tmp: Path, command: str, key: bytes, address: int, data: bytes, conf: int) -> bytes:
    (tmp / "key.bin").write_bytes(key)
    (tmp / "in.bin").write_bytes(data)
    out = tmp / "out.bin"
    out.unlink(missing_ok=True)
    res = espsecure(command, "--keyfile", tmp / "key.bin", "--address", hex(address),
                    "--flash-crypt-conf", hex(conf), "--output", out, tmp / "in.bin")
    assert res.code == 0, res.out
    return out.read_bytes()


@SETTINGS
@given(key=keys, placed=placed_data(), conf=confs)
def test_encrypt_and_decrypt_match_espsecure(tmp_path: Path, key: bytes, placed: tuple[int, bytes],
                                             conf: int) -> None:
    address, data = placed
    cipher = flash_crypt.encrypt(key, address, data, conf)
    assert cipher == _peer(tmp_path, "encrypt-flash-data", key, address, data, conf)
    assert cipher != data
    assert flash_crypt.decrypt(key, address, cipher, conf) == data
    assert _peer(tmp_path, "decrypt-flash-data", key, address, cipher, conf) == data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys, size=st.integers(1, 200), conf=confs, unit=st.integers(0, 0x7FFF))
def test_cli_files_match_espsecure_with_a_partial_last_block(tmp_path: Path, cli, key: bytes, size: int,
                                                             conf: int, unit: int) -> None:
    """espsecure pads a partial block with random bytes, esptk with 0xFF: whole blocks agree, and
    each tool decrypts the other's output back to the input."""
    address = unit * 32
    data = bytes((i * 7 + size) & 0xFF for i in range(size))
    theirs = _peer(tmp_path, "encrypt-flash-data", key, address, data, conf)
    mine_path = tmp_path / "mine.bin"
    r = cli("secure", "encrypt_flash_data", "-k", str(tmp_path / "key.bin"), "-a", hex(address),
            "--flash_crypt_conf", hex(conf), "-o", str(mine_path), str(tmp_path / "in.bin"))
    assert r.code == 0, r.err
    mine = mine_path.read_bytes()
    whole = size - size % 16
    assert len(mine) == len(theirs) == size + (-size % 16)
    assert mine[:whole] == theirs[:whole]
    assert flash_crypt.decrypt(key, address, theirs, conf)[:size] == data
    assert _peer(tmp_path, "decrypt-flash-data", key, address, mine, conf)[:size] == data
    assert flash_crypt.decrypt(key, address, mine, conf)[size:] == b"\xff" * (-size % 16)


def test_the_tweak_makes_every_32_byte_unit_different() -> None:
    key = bytes(range(32))
    data = b"\xaa" * 4096
    cipher = flash_crypt.encrypt(key, 0x10000, data)
    units = {cipher[i : i + 32] for i in range(0, len(cipher), 32)}
    assert len(units) == 128
    # the two halves of one unit share the key: equal plaintext halves stay equal in ciphertext
    assert cipher[:16] == cipher[16:32]
    # config 0: one key for the whole flash
    flat = flash_crypt.encrypt(key, 0x10000, data, 0)
    assert len({flat[i : i + 32] for i in range(0, len(flat), 32)}) == 1


@pytest.mark.parametrize(("address", "size", "what"), [
    (0x1008, 32, "multiple of 16"), (0x1000, 24, "multiple of 16"), (0xFFFFF0, 32, "16 MB")])
def test_bad_input_is_refused(address: int, size: int, what: str) -> None:
    with pytest.raises(UsageError, match=what):
        flash_crypt.encrypt(bytes(32), address, bytes(size))


def test_key_of_a_wrong_length_is_refused() -> None:
    with pytest.raises(UsageError, match="16 bytes"):
        flash_crypt.encrypt(bytes(16), 0, bytes(32))
