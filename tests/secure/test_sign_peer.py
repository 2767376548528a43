"""Secure boot signatures and key digests: esptk and the real espsecure accept each other's work,
and v1 signatures (deterministic ECDSA, RFC 6979) are byte-identical (SECURITY.md §5.2, §5.4, §5.5)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import espsecure

pytestmark = pytest.mark.peer


def _gen(cli, folder: Path, name: str, version: int, by_peer: bool) -> Path:
    path = folder / name
    if by_peer:
        res = espsecure("generate-signing-key", "--version", str(version), path)
        assert res.code == 0, res.out
    else:
        r = cli("secure", "generate-signing-key", "--version", str(version), str(path))
        assert r.code == 0, r.err
    return path


@pytest.fixture(scope="module")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture
def v1_keys(keydir: Path, cli) -> list[Path]:
    keys = sorted(keydir.glob("ec*.pem"))
    if not keys:
        keys = [_gen(cli, keydir, f"ec{i}.pem", 1, by_peer=i % 2 == 1) for i in range(6)]
    return keys


@pytest.fixture
def rsa_keys(keydir: Path, cli) -> list[Path]:
    keys = sorted(keydir.glob("rsa*.pem"))
    if not keys:
        keys = [_gen(cli, keydir, f"rsa{i}.pem", 2, by_peer=i in (1, 3)) for i in range(4)]
    return keys


def _esptk(cli, *args: str | Path) -> str:
    r = cli("secure", *[str(a) for a in args])
    assert r.code == 0, r.err
    return r.out + r.err


def _peer_ok(*args: str | Path) -> str:
    res = espsecure(*args)
    assert res.code == 0, res.out
    return res.out


# --- secure boot v1 ------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 5), data=st.binary(min_size=0, max_size=3000))
def test_v1_signatures_are_byte_identical_and_cross_verify(tmp_path: Path, cli, v1_keys: list[Path],
                                                           which: int, data: bytes) -> None:
    key = v1_keys[which]
    (tmp_path / "data.bin").write_bytes(data)
    _esptk(cli, "sign-data", "--version", "1", "--keyfile", key, "--output", tmp_path / "mine.bin",
           tmp_path / "data.bin")
    _peer_ok("sign-data", "--version", "1", "--keyfile", key, "--output", tmp_path / "theirs.bin",
             tmp_path / "data.bin")
    mine = (tmp_path / "mine.bin").read_bytes()
    assert mine == (tmp_path / "theirs.bin").read_bytes()
    assert mine[: len(data)] == data and len(mine) == len(data) + 68
    assert "Signature is valid" in _peer_ok("verify-signature", "--version", "1", "--keyfile", key,
                                            tmp_path / "mine.bin")
    _esptk(cli, "verify-signature", "--version", "1", "--keyfile", key, tmp_path / "theirs.bin")


def test_v1_same_signature_from_a_pkcs8_key_and_twice(tmp_path: Path, cli, v1_keys: list[Path]) -> None:
    pem = v1_keys[0].read_bytes()
    key = serialization.load_pem_private_key(pem, None)
    pkcs8 = tmp_path / "pkcs8.pem"
    pkcs8.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    (tmp_path / "d.bin").write_bytes(b"bootloader" * 100)
    outs = []
    for n, k in enumerate((v1_keys[0], pkcs8, v1_keys[0])):
        _esptk(cli, "sign_data", "-v", "1", "-k", k, "-o", tmp_path / f"o{n}.bin", tmp_path / "d.bin")
        outs.append((tmp_path / f"o{n}.bin").read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_v1_verify_with_public_pem_and_raw_key_and_refuse_tampering(tmp_path: Path, cli, v1_keys: list[Path]) -> None:
    key = v1_keys[1]
    _esptk(cli, "extract-public-key", "--version", "1", "--keyfile", key, tmp_path / "raw_mine.bin")
    _peer_ok("extract-public-key", "--version", "1", "--keyfile", key, tmp_path / "raw_theirs.bin")
    assert (tmp_path / "raw_mine.bin").read_bytes() == (tmp_path / "raw_theirs.bin").read_bytes()
    pub = serialization.load_pem_private_key(key.read_bytes(), None).public_key()
    (tmp_path / "pub.pem").write_bytes(pub.public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "d.bin").write_bytes(b"\x42" * 999)
    _peer_ok("sign-data", "--version", "1", "--keyfile", key, "--output", tmp_path / "s.bin", tmp_path / "d.bin")
    for k in ("raw_mine.bin", "pub.pem"):
        _esptk(cli, "verify-signature", "-v", "1", "-k", tmp_path / k, tmp_path / "s.bin")
    signed = bytearray((tmp_path / "s.bin").read_bytes())
    signed[10] ^= 1
    (tmp_path / "bad.bin").write_bytes(signed)
    r = cli("secure", "verify-signature", "-v", "1", "-k", str(tmp_path / "pub.pem"), str(tmp_path / "bad.bin"))
    assert r.code == 1 and "not valid" in r.err
    assert espsecure("verify-signature", "-v", "1", "-k", tmp_path / "pub.pem", tmp_path / "bad.bin").code != 0
    r = cli("secure", "verify-signature", "-v", "1", "-k", str(v1_keys[2]), str(tmp_path / "s.bin"))
    assert r.code == 1


def test_v1_precomputed_signature(tmp_path: Path, cli, v1_keys: list[Path]) -> None:
    key = v1_keys[3]
    (tmp_path / "d.bin").write_bytes(b"app" * 333)
    _peer_ok("sign-data", "-v", "1", "-k", key, "-o", tmp_path / "ref.bin", tmp_path / "d.bin")
    ref = (tmp_path / "ref.bin").read_bytes()
    (tmp_path / "sig.bin").write_bytes(ref[-64:])
    pub = serialization.load_pem_private_key(key.read_bytes(), None).public_key()
    (tmp_path / "pub.pem").write_bytes(pub.public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    _esptk(cli, "sign-data", "-v", "1", "--pub-key", tmp_path / "pub.pem", "--signature", tmp_path / "sig.bin",
           "-o", tmp_path / "out.bin", tmp_path / "d.bin")
    assert (tmp_path / "out.bin").read_bytes() == ref


@pytest.mark.parametrize("bits", [256, 192])
def test_digest_private_key_matches(tmp_path: Path, cli, v1_keys: list[Path], bits: int) -> None:
    _esptk(cli, "digest-private-key", "-k", v1_keys[4], "-l", str(bits), tmp_path / "mine.bin")
    _peer_ok("digest-private-key", "-k", v1_keys[4], "-l", str(bits), tmp_path / "theirs.bin")
    mine = (tmp_path / "mine.bin").read_bytes()
    assert mine == (tmp_path / "theirs.bin").read_bytes() and len(mine) == bits // 8


# --- secure boot v2 ------------------------------------------------------------------------------
def _info_digests(text: str) -> list[str]:
    return ["".join(line.split(":", 1)[1].split()) for line in text.splitlines() if "ublic key digest" in line]


@pytest.mark.parametrize("size", [4096 * 3, 5000, 1])
def test_v2_each_tool_verifies_the_others_signature(tmp_path: Path, cli, rsa_keys: list[Path], size: int) -> None:
    data = bytes((i * 13) & 0xFF for i in range(size))
    (tmp_path / "d.bin").write_bytes(data)
    _esptk(cli, "sign-data", "--version", "2", "--keyfile", rsa_keys[0], "-o", tmp_path / "mine.bin",
           tmp_path / "d.bin")
    _peer_ok("sign-data", "--version", "2", "--keyfile", rsa_keys[0], "-o", tmp_path / "theirs.bin", tmp_path / "d.bin")
    mine, theirs = (tmp_path / "mine.bin").read_bytes(), (tmp_path / "theirs.bin").read_bytes()
    assert len(mine) == len(theirs) and len(mine) % 4096 == 0
    # RSA-PSS has a random salt: everything but the 384 signature bytes and the CRC is identical
    sig_at = len(mine) - 4096 + 812
    assert mine[:sig_at] == theirs[:sig_at] and mine[sig_at + 388 :] == theirs[sig_at + 388 :]
    assert "verification successful" in _peer_ok("verify-signature", "-v", "2", "-k", rsa_keys[0],
                                                 tmp_path / "mine.bin")
    _esptk(cli, "verify-signature", "-v", "2", "-k", rsa_keys[0], tmp_path / "theirs.bin")
    for other in (tmp_path / "mine.bin", tmp_path / "theirs.bin"):
        r = cli("secure", "verify-signature", "-v", "2", "-k", str(rsa_keys[1]), str(other))
        assert r.code == 1 and "no signature block verifies" in r.err
        assert espsecure("verify-signature", "-v", "2", "-k", rsa_keys[1], other).code != 0


def test_v2_key_digests_agree_everywhere(tmp_path: Path, cli, rsa_keys: list[Path]) -> None:
    key = rsa_keys[1]
    _esptk(cli, "extract-public-key", "-v", "2", "-k", key, tmp_path / "pub_mine.pem")
    _peer_ok("extract-public-key", "-v", "2", "-k", key, tmp_path / "pub_theirs.pem")
    assert (tmp_path / "pub_mine.pem").read_bytes() == (tmp_path / "pub_theirs.pem").read_bytes()
    digests = set()
    for k in (key, tmp_path / "pub_mine.pem"):
        _esptk(cli, "digest-sbv2-public-key", "-k", k, "-o", tmp_path / "dm.bin")
        _peer_ok("digest-sbv2-public-key", "-k", k, "-o", tmp_path / "dt.bin")
        digests |= {(tmp_path / "dm.bin").read_bytes().hex(), (tmp_path / "dt.bin").read_bytes().hex()}
    _esptk(cli, "digest-rsa-public-key", "-k", key, "-o", tmp_path / "old_name.bin")
    digests.add((tmp_path / "old_name.bin").read_bytes().hex())
    (tmp_path / "d.bin").write_bytes(b"\x5a" * 4096)
    _esptk(cli, "sign-data", "-v", "2", "-k", key, "-o", tmp_path / "s.bin", tmp_path / "d.bin")
    r = cli("secure", "signature-info-v2", str(tmp_path / "s.bin"))
    assert r.code == 0
    digests |= set(_info_digests(r.out)) | set(_info_digests(_peer_ok("signature-info-v2", tmp_path / "s.bin")))
    assert len(digests) == 1


def test_v2_appending_signature_blocks_across_tools(tmp_path: Path, cli, rsa_keys: list[Path]) -> None:
    (tmp_path / "d.bin").write_bytes(bytes(range(256)) * 40)
    _esptk(cli, "sign-data", "-v", "2", "-k", rsa_keys[0], "-o", tmp_path / "s1.bin", tmp_path / "d.bin")
    _peer_ok("sign-data", "-v", "2", "-a", "-k", rsa_keys[1], "-o", tmp_path / "s2.bin", tmp_path / "s1.bin")
    _esptk(cli, "sign-data", "-v", "2", "--append-signatures", "-k", rsa_keys[2], "-o", tmp_path / "s3.bin",
           tmp_path / "s2.bin")
    signed = tmp_path / "s3.bin"
    for args in (("--json", "secure", "signature-info-v2", str(signed)),
                 ("secure", "signature-info-v2", "--json", str(signed))):
        r = cli(*args)
        assert r.code == 0 and r.out.count('"block"') == 3
    assert len(_info_digests(_peer_ok("signature-info-v2", signed))) == 3
    for key in rsa_keys[:3]:
        _esptk(cli, "verify-signature", "-v", "2", "-k", key, signed)
        assert "verification successful" in _peer_ok("verify-signature", "-v", "2", "-k", key, signed)
    assert cli("secure", "verify-signature", "-v", "2", "-k", str(rsa_keys[3]), str(signed)).code == 1
    assert espsecure("verify-signature", "-v", "2", "-k", rsa_keys[3], signed).code != 0
    r = cli("secure", "sign-data", "-v", "2", "-a", "-k", str(rsa_keys[3]), "-o", str(tmp_path / "s4.bin"), str(signed))
    assert r.code == 1 and "do not fit" in r.err and not (tmp_path / "s4.bin").exists()


def test_v2_several_keys_after_one_flag(tmp_path: Path, cli, rsa_keys: list[Path]) -> None:
    """espsecure's form ``-k K1 K2 K3`` (each key its own block)."""
    (tmp_path / "d.bin").write_bytes(b"\x01" * 8192)
    _esptk(cli, "sign-data", "-v", "2", str(tmp_path / "d.bin"), "-k", *map(str, rsa_keys[:3]), "-o",
           str(tmp_path / "s.bin"))
    assert len(_info_digests(_peer_ok("signature-info-v2", tmp_path / "s.bin"))) == 3
    # the data file swallowed by -k is given back (espsecure itself would refuse this line)
    _esptk(cli, "sign-data", "-v", "2", "-k", str(rsa_keys[0]), str(tmp_path / "d.bin"))
    assert len((tmp_path / "d.bin").read_bytes()) == 8192 + 4096


def test_v2_precomputed_signature(tmp_path: Path, cli, rsa_keys: list[Path]) -> None:
    key = serialization.load_pem_private_key(rsa_keys[2].read_bytes(), None)
    data = bytes(range(256)) * 32
    (tmp_path / "d.bin").write_bytes(data)
    sig = key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    (tmp_path / "sig.bin").write_bytes(sig)
    (tmp_path / "pub.pem").write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    _esptk(cli, "sign-data", "-v", "2", "--pub-key", tmp_path / "pub.pem", "--signature", tmp_path / "sig.bin",
           "-o", tmp_path / "s.bin", tmp_path / "d.bin")
    assert "verification successful" in _peer_ok("verify-signature", "-v", "2", "-k", tmp_path / "pub.pem",
                                                 tmp_path / "s.bin")
    (tmp_path / "sig.bin").write_bytes(bytes(384))
    r = cli("secure", "sign-data", "-v", "2", "--pub-key", str(tmp_path / "pub.pem"), "--signature",
            str(tmp_path / "sig.bin"), "-o", str(tmp_path / "bad.bin"), str(tmp_path / "d.bin"))
    assert r.code == 1 and not (tmp_path / "bad.bin").exists()


def test_v2_tampered_image_is_refused_by_both(tmp_path: Path, cli, rsa_keys: list[Path]) -> None:
    (tmp_path / "d.bin").write_bytes(b"\x77" * 4096)
    _esptk(cli, "sign-data", "-v", "2", "-k", rsa_keys[0], "-o", tmp_path / "s.bin", tmp_path / "d.bin")
    signed = bytearray((tmp_path / "s.bin").read_bytes())
    signed[100] ^= 0x80
    (tmp_path / "bad.bin").write_bytes(signed)
    r = cli("secure", "verify-signature", "-v", "2", "-k", str(rsa_keys[0]), str(tmp_path / "bad.bin"))
    assert r.code == 1 and "other data" in r.err
    assert espsecure("verify-signature", "-v", "2", "-k", rsa_keys[0], tmp_path / "bad.bin").code != 0
    assert hashlib.sha256(bytes(signed[:4096])).digest() != bytes(signed[4096 + 4 : 4096 + 36])
