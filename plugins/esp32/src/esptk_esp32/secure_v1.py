"""ESP32 secure boot v1: the bootloader digest and ECDSA-P256 signatures (SECURITY.md §5.3, §5.4)."""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from esptk.errors import SecurityError, SignatureError
from esptk.security import Result

from . import secure_keys as keys

IV_SIZE = 128
DIGEST_AT = 0x1000  #: the image follows the IV and digest at this offset of the output
PAD = 128
SIG_SIZE = 68  #: u32 version 0 + r + s
HASH_FLAG_AT = 23


def _aes_key(key: bytes) -> bytes:
    if len(key) == 32:
        return key
    if len(key) == 24:
        return key + key[8:16]
    raise SecurityError(f"the secure boot key has {len(key)} bytes; the ESP32 takes 32 (or 24) bytes",
                        hint="give the raw 256-bit key file that is burnt into BLOCK2")


def digest_bootloader(key: bytes, image: bytes, iv: bytes | None) -> Result:
    """IV ‖ digest ‖ 0xFF up to 0x1000 ‖ the padded image, as flashed at 0x0."""
    notes = []
    if iv is None:
        iv = os.urandom(IV_SIZE)
    else:
        iv = iv[:IV_SIZE]
        notes.append("--iv is for testing only: a real digest needs a fresh random IV")
    if len(image) > HASH_FLAG_AT and image[HASH_FLAG_AT] == 1 and len(image) % PAD <= 32:
        image = image[: len(image) - len(image) % PAD]  # the ROM does not read the appended SHA-256
    image += b"\xff" * (-len(image) % PAD)
    plain = iv + image
    plain = plain[: len(plain) - len(plain) % 16]  # an IV of odd length: a last partial block is not digested
    flipped = b"".join(plain[i : i + 16][::-1] for i in range(0, len(plain), 16))
    enc = Cipher(algorithms.AES(_aes_key(key)), modes.ECB()).encryptor()
    cipher = enc.update(flipped) + enc.finalize()
    sha = hashlib.sha512()
    for i in range(0, len(cipher), 16):
        block = cipher[i : i + 16]
        sha.update(block[12:16] + block[8:12] + block[4:8] + block[0:4])  # words in reverse order
    digest = sha.digest()
    stored = b"".join(digest[i : i + 4][::-1] for i in range(0, len(digest), 4))
    head = iv + stored
    out = head + b"\xff" * (DIGEST_AT - len(head)) + image
    return Result(out, notes, {"digest": digest.hex(), "image_size": len(image), "iv_size": len(iv)})


def _rs(signature_der: bytes) -> bytes:
    r, s = decode_dss_signature(signature_der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _check(pub: ec.EllipticCurvePublicKey, data: bytes, rs: bytes) -> bool:
    der = encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:64], "big"))
    try:
        pub.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sign(data: bytes, signing_keys: Sequence[bytes], pub_keys: Sequence[bytes], signatures: Sequence[bytes]) -> Result:
    """``data`` followed by the 68-byte v1 signature block (deterministic ECDSA, RFC 6979)."""
    if len(signing_keys) + len(pub_keys) != 1 or len(signatures) != len(pub_keys):
        raise SecurityError("secure boot v1 takes exactly one key (or one public key with its signature)",
                            hint="give one --keyfile, or --pub-key with --signature")
    if signing_keys:
        priv = keys.load_private(signing_keys[0])
        keys.require_v1(priv)
        assert isinstance(priv, ec.EllipticCurvePrivateKey)
        rs = _rs(priv.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
        pub = priv.public_key()
    else:
        pub_any = keys.load_public(pub_keys[0], "public key")
        keys.require_v1(pub_any)
        assert isinstance(pub_any, ec.EllipticCurvePublicKey)
        pub, rs = pub_any, signatures[0]
        if len(rs) != 64:
            raise SecurityError(f"a v1 signature has 64 bytes (r ‖ s), this one has {len(rs)}",
                                hint="give the raw signature made by the signing server")
    if not _check(pub, data, rs):
        raise SignatureError("the signature does not verify with the public key",
                             hint="the signature was made for other data or another key")
    return Result(data + struct.pack("<I", 0) + rs, [f"Signed {len(data)} bytes of data"],
                  {"signed_bytes": len(data), "signature": rs.hex()})


def verify(data: bytes, key: bytes) -> Result:
    if len(key) == 64 and b"-----" not in key:
        pub = keys.from_raw_xy(key)
    else:
        pub_any = keys.load_public(key)
        keys.require_v1(pub_any)
        assert isinstance(pub_any, ec.EllipticCurvePublicKey)
        pub = pub_any
    if len(data) < SIG_SIZE:
        raise SignatureError(f"{len(data)} bytes are too short to carry a v1 signature ({SIG_SIZE} bytes)")
    body, block = data[:-SIG_SIZE], data[-SIG_SIZE:]
    (version,) = struct.unpack_from("<I", block)
    if version != 0:
        raise SignatureError(f"the signature block has version {version}; secure boot v1 knows version 0 only",
                             hint="is this a secure boot v2 image? try --version 2")
    if not _check(pub, body, block[4:]):
        raise SignatureError("the signature is not valid", hint="the data or the key differs from what was signed")
    return Result(b"", [f"Verified {len(body)} bytes of data: the signature is valid"],
                  {"verified_bytes": len(body), "valid": True})


def extract_public(key: bytes) -> bytes:
    pub = keys.load_public(key)
    keys.require_v1(pub)
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    return keys.raw_xy(pub)
