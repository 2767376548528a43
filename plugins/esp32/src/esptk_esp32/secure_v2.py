"""ESP32 secure boot v2: RSA-3072-PSS signature blocks in the sector after the image (SECURITY.md §5.5)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from esptk.errors import SecurityError, SignatureError
from esptk.security import Result

from . import secure_keys as keys

SECTOR = 4096
BLOCK_SIZE = 1216
MAX_BLOCKS = 3
MAGIC = 0xE7
VERSION_RSA = 0x02
VERSION_ECDSA = 0x03
KEY_FIELD = slice(36, 812)  #: n, e, R² mod n, M′: what the eFuse digest covers
CRC_AT = 1196
RSA_BYTES = 384
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def key_material(pub: rsa.RSAPublicKey) -> bytes:
    """n ‖ e ‖ R² mod n ‖ M′ (little-endian), the ROM's pre-computed Montgomery values."""
    nums = pub.public_numbers()
    n, e = nums.n, nums.e
    r2 = (1 << (2 * 8 * RSA_BYTES)) % n
    m_prime = (-pow(n, -1, 1 << 32)) % (1 << 32)
    return (n.to_bytes(RSA_BYTES, "little") + struct.pack("<I", e) + r2.to_bytes(RSA_BYTES, "little")
            + struct.pack("<I", m_prime))


def public_key_digest(key: bytes) -> bytes:
    pub = keys.load_public(key)
    keys.require_rsa3072(pub)
    assert isinstance(pub, rsa.RSAPublicKey)
    return hashlib.sha256(key_material(pub)).digest()


def _block(digest: bytes, pub: rsa.RSAPublicKey, signature: bytes) -> bytes:
    body = struct.pack("<BBH", MAGIC, VERSION_RSA, 0) + digest + key_material(pub) + signature[::-1]
    body += struct.pack("<I", zlib.crc32(body))
    return body + bytes(BLOCK_SIZE - len(body))


def _valid(block: bytes) -> bool:
    if len(block) < BLOCK_SIZE or block[0] != MAGIC or block[1] not in (VERSION_RSA, VERSION_ECDSA):
        return False
    return zlib.crc32(block[:CRC_AT]) == struct.unpack_from("<I", block, CRC_AT)[0]


def _blocks(sector: bytes) -> list[bytes]:
    """The valid signature blocks at the start of a signature sector (up to the first invalid one)."""
    found = []
    for i in range(MAX_BLOCKS):
        block = sector[i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE]
        if not _valid(block):
            break
        found.append(block)
    return found


def _kind(block: bytes) -> str:
    return "RSA" if block[1] == VERSION_RSA else "ECDSA"


def _rsa_verify(pub: rsa.RSAPublicKey, content_digest: bytes, signature: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    try:
        pub.verify(signature, content_digest, PSS, Prehashed(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sign(data: bytes, signing_keys: Sequence[bytes], pub_keys: Sequence[bytes], signatures: Sequence[bytes],
         append: bool, skip_padding: bool) -> Result:
    notes: list[str] = []
    old: list[bytes] = []
    if len(pub_keys) != len(signatures):
        raise SecurityError(f"{len(pub_keys)} public key(s) but {len(signatures)} signature(s)",
                            hint="give one --signature per --pub-key, in the same order")
    if signing_keys and pub_keys:
        raise SecurityError("give either signing keys or public keys with signatures, not both")
    if not signing_keys and not pub_keys:
        raise SecurityError("no key given", hint="give --keyfile KEY (or --pub-key with --signature)")
    content = data
    if len(data) % SECTOR:
        if pub_keys:
            raise SecurityError("with pre-computed signatures the data must be a multiple of 4096 bytes",
                                hint="sign the exact (padded) bytes the signing server signed")
        if skip_padding:
            notes.append("Skipping sector padding: the data is not sector aligned")
        else:
            pad = -len(data) % SECTOR
            notes.append(f"Padding the data by {pad} bytes so the signature sector starts at a sector boundary")
            content = data + b"\xff" * pad
    elif append:
        old = _blocks(data[-SECTOR:])
        if not old:
            notes.append("No valid signature block found: signing the whole image afresh")
        else:
            content = data[:-SECTOR]
            notes.append(f"{len(old)} valid signature block(s) already present")
    count = len(signing_keys) + len(pub_keys)
    if len(old) + count > MAX_BLOCKS:
        raise SecurityError(f"{len(old)} + {count} signature blocks do not fit: a sector holds {MAX_BLOCKS}",
                            hint="the ESP32 (v3.0+) uses only the first signature block")
    digest = hashlib.sha256(content).digest()
    new = []
    for pem in signing_keys:
        priv = keys.load_private(pem)
        keys.require_rsa3072(priv)
        assert isinstance(priv, rsa.RSAPrivateKey)
        new.append(_block(digest, priv.public_key(), priv.sign(content, PSS, hashes.SHA256())))
    for pem, sig in zip(pub_keys, signatures):
        pub = keys.load_public(pem, "public key")
        keys.require_rsa3072(pub)
        assert isinstance(pub, rsa.RSAPublicKey)
        if len(sig) != RSA_BYTES or not _rsa_verify(pub, digest, sig):
            raise SignatureError("a pre-computed signature does not verify with its public key",
                                 hint=f"give the raw {RSA_BYTES}-byte RSA-PSS signature of the padded data")
        new.append(_block(digest, pub, sig))
    sector = b"".join(old + new)
    sector += b"\xff" * (SECTOR - len(sector))
    total = len(old) + len(new)
    if total > 1:
        notes.append("the ESP32 (v3.0 and later) checks only the first signature block")
    notes.append(f"Signed {len(content)} bytes of data; the signature sector now has {total} signature block(s)")
    return Result(content + sector, notes, {"signed_bytes": len(content), "signature_blocks": total,
                                            "image_digest": digest.hex()})


def _check_length(data: bytes, skip_padding: bool) -> None:
    if (len(data) < SECTOR) if skip_padding else (not data or len(data) % SECTOR):
        raise SignatureError(f"{len(data)} bytes are not a signed image: the size must be a non-zero multiple of 4096",
                             hint="sign it first: esptk secure sign-data --version 2")


def verify(data: bytes, key: bytes, skip_padding: bool) -> Result:
    _check_length(data, skip_padding)
    pub = keys.load_public(key)
    keys.require_rsa3072(pub)
    assert isinstance(pub, rsa.RSAPublicKey)
    digest = hashlib.sha256(data[:-SECTOR]).digest()
    notes, verified = [], []
    for i, block in _checked_blocks(data):
        if block is None:
            notes.append(f"Signature block {i} is absent or invalid")
        elif block[1] == VERSION_RSA and _rsa_verify(pub, digest, block[812:1196][::-1]):
            notes.append(f"Signature block {i} verifies with the key ({_kind(block)})")
            verified.append(i)
        else:
            notes.append(f"Signature block {i} is not signed by the key ({_kind(block)})")
    if not verified:
        raise SignatureError("no signature block verifies with the key",
                             hint="check that this is the right public or private key")
    return Result(b"", notes, {"verified_blocks": verified, "valid": True})


def info(data: bytes) -> Result:
    _check_length(data, False)
    digest = hashlib.sha256(data[:-SECTOR]).digest()
    blocks = []
    notes = []
    for i, block in _checked_blocks(data):
        if block is None:
            notes.append(f"Signature block {i} absent or invalid: the next blocks are not checked")
            break
        span = KEY_FIELD if block[1] == VERSION_RSA else _ecdsa_key_span(block)
        key_digest = hashlib.sha256(block[span]).hexdigest()
        blocks.append({"block": i, "type": _kind(block), "public_key_digest": key_digest})
        notes.append(f"Signature block {i} is valid ({_kind(block)}); public key digest: "
                     + " ".join(key_digest[j : j + 2] for j in range(0, 64, 2)))
    return Result(b"", notes, {"blocks": blocks, "image_digest": digest.hex()})


def _checked_blocks(data: bytes) -> Iterator[tuple[int, bytes | None]]:
    """Each block slot of the signature sector: the block, or None if absent or invalid.

    A valid block made for other data is an error: the image changed after signing.
    """
    sector = data[-SECTOR:]
    for i in range(MAX_BLOCKS):
        block = sector[i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE]
        if not _valid(block):
            yield i, None
            continue
        if not _digest_matches(block, data[:-SECTOR]):
            raise SignatureError(f"signature block {i} was made for other data (its image digest differs)",
                                 hint="the image changed after signing")
        yield i, block


def _digest_matches(block: bytes, content: bytes) -> bool:
    if block[1] == VERSION_ECDSA and block[2] == 1:  # SHA-384 (P-384 blocks)
        return block[4:52] == hashlib.sha384(content).digest()
    return block[4:36] == hashlib.sha256(content).digest()


def _ecdsa_key_span(block: bytes) -> slice:
    """The curve id and X ‖ Y of an ECDSA block (P-384 blocks carry a 48-byte digest first)."""
    return slice(52, 149) if block[2] == 1 else slice(36, 101)


def extract_public(key: bytes) -> bytes:
    pub = keys.load_public(key)
    keys.require_rsa3072(pub)
    return keys.public_pem(pub)
