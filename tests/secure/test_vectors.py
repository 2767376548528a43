"""The espsecure test vectors that SECURITY.md §5.2/§5.7 give (esptool's test/secure_images).

The key files are esptool's test inputs: they stay outside this repository (CONTRIBUTING.md). Point
``ESPTK_SECURE_VECTORS`` at a copy of that folder, or place it at ``../shared/secure_images``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import SHARED

VECTORS = Path(os.environ.get("ESPTK_SECURE_VECTORS", SHARED / "secure_images"))
#: SECURITY.md §5.2: digest-private-key of ecdsa256_secure_boot_signing_key.pem
PRIVATE_KEY_DIGEST = "7b7b53708fc89d5e0b2df2571fb8f9d778f61a422ff1101a22159c4b34aad0aa"
#: SECURITY.md §5.7: BLOCK2 after burn-key-digest of rsa_secure_boot_signing_key.pem starts "cb 27 91 a3"
RSA_DIGEST_START = "cb2791a3"


def _vector(name: str) -> Path:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"{path} is absent: set ESPTK_SECURE_VECTORS to esptool's test/secure_images")
    return path


def test_digest_private_key_vector(tmp_path: Path, cli) -> None:
    key = _vector("ecdsa256_secure_boot_signing_key.pem")
    r = cli("secure", "digest-private-key", "--keyfile", str(key), str(tmp_path / "d.bin"))
    assert r.code == 0, r.err
    assert (tmp_path / "d.bin").read_bytes().hex() == PRIVATE_KEY_DIGEST


def test_rsa_public_key_digest_vector(tmp_path: Path, cli) -> None:
    key = _vector("rsa_secure_boot_signing_key.pem")
    r = cli("secure", "digest-sbv2-public-key", "--keyfile", str(key), "--output", str(tmp_path / "d.bin"))
    assert r.code == 0, r.err
    digest = (tmp_path / "d.bin").read_bytes()
    assert digest.hex().startswith(RSA_DIGEST_START)
    stored = VECTORS / "rsa_public_key_digest.bin"
    if stored.exists():
        assert digest == stored.read_bytes()
