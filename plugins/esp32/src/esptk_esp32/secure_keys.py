"""Signing keys for ESP32 secure boot: loading, generating, public parts (SECURITY.md §5.2)."""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from esptk.errors import SecurityError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

RSA_BITS = 3072
V1_CURVE = "secp256r1"
KEY_HINT = "give the PEM file made by generate-signing-key (or openssl), unencrypted"


def load_private(pem: bytes, what: str = "signing key") -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise SecurityError(f"the {what} is not an unencrypted PEM private key ({_why(e)})", hint=KEY_HINT) from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise SecurityError(f"the {what} is a {type(key).__name__}, not an ECDSA or RSA key", hint=KEY_HINT)
    return key


def load_public(data: bytes, what: str = "key") -> PublicKey:
    """A public key from a PEM public key or a PEM private key."""
    if b"PRIVATE KEY" in data:
        return load_private(data, what).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise SecurityError(f"the {what} is not a PEM public or private key ({_why(e)})", hint=KEY_HINT) from None
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise SecurityError(f"the {what} is a {type(key).__name__}, not an ECDSA or RSA key", hint=KEY_HINT)
    return key


def _why(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:120]


def require_v1(key: PrivateKey | PublicKey) -> None:
    if not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) or key.curve.name != V1_CURVE:
        raise SecurityError("secure boot v1 keys are ECDSA on curve P-256 (prime256v1); this key is not",
                            hint="make one with: esptk secure generate-signing-key --version 1 KEYFILE")


def require_rsa3072(key: PrivateKey | PublicKey) -> None:
    if not isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)) or key.key_size != RSA_BITS:
        raise SecurityError("the ESP32's secure boot v2 verifies RSA-3072 signatures only; this key is not RSA-3072",
                            hint="make one with: esptk secure generate-signing-key --version 2 KEYFILE")


def generate(version: int, scheme: str | None) -> bytes:
    """A new private key as unencrypted PEM in the traditional OpenSSL form."""
    wanted = scheme or ("ecdsa256" if version == 1 else "rsa3072")
    if version == 1 and wanted != "ecdsa256":
        raise SecurityError(f"secure boot v1 keys are ecdsa256 only, not {wanted}",
                            hint="drop --scheme, or use --version 2")
    if version == 2 and wanted != "rsa3072":
        raise SecurityError(f"the ESP32's secure boot v2 verifies rsa3072 keys only, not {wanted}",
                            hint="drop --scheme (rsa3072 is the default)")
    key: PrivateKey
    if wanted == "ecdsa256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def public_pem(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def raw_xy(key: ec.EllipticCurvePublicKey) -> bytes:
    """X ‖ Y, each big-endian, as secure boot v1 stores the verification key."""
    size = (key.curve.key_size + 7) // 8
    nums = key.public_numbers()
    return nums.x.to_bytes(size, "big") + nums.y.to_bytes(size, "big")


def from_raw_xy(raw: bytes) -> ec.EllipticCurvePublicKey:
    if len(raw) != 64:
        raise SecurityError(f"a raw P-256 public key has 64 bytes (X ‖ Y), this one has {len(raw)}", hint=KEY_HINT)
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)
    except ValueError:
        raise SecurityError("the 64 raw bytes are not a point on P-256", hint=KEY_HINT) from None


def digest_private(pem: bytes, bits: int) -> bytes:
    """SHA-256 of the P-256 private scalar (32 bytes big-endian), cut to ``bits``."""
    key = load_private(pem)
    require_v1(key)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    if bits not in (192, 256):
        raise SecurityError(f"key length {bits} is not 192 or 256", hint="use -l 256 (or 192 for 3/4 coding)")
    digest = hashlib.sha256(key.private_numbers().private_value.to_bytes(32, "big")).digest()
    return digest[: bits // 8]


def random_key(bits: int, allowed: tuple[int, ...]) -> bytes:
    if bits not in allowed:
        raise SecurityError(f"a flash-encryption key of {bits} bits is not possible here",
                            hint="use " + " or ".join(str(b) for b in allowed) + " bits")
    return os.urandom(bits // 8)
