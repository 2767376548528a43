"""The ESP32 flash-encryption engine's algorithm (SECURITY.md §5.6), for host and virtual chip.

Each 32-byte unit of flash is encrypted with its own AES-256 key: the flash key XOR a tweak made of
bits 5..23 of the unit's address, spread over the key as FLASH_CRYPT_CONFIG allows. The engine uses
AES "backwards": encrypting flash content is an AES *decryption* of the byte-reversed block.

``key`` is in the order of a key file (what ``espsecure`` and the engine use; ``burn-key`` stores it
reversed in BLOCK1). A 24-byte key (3/4 coding scheme) is extended as the hardware does.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from esptk.errors import UsageError

BLOCK = 16
UNIT = 32
#: the engine uses address bits 5..23 only: flash beyond 16 MB is not addressable
ADDRESS_LIMIT = 1 << 24


def _tweak_layout() -> list[tuple[int, int]]:
    """(FLASH_CRYPT_CONFIG bit, address bit) for key bit positions 0 (MSB of byte 0) .. 255."""
    run = list(range(23, 4, -1))  # address bits 23..5
    layout: list[tuple[int, int]] = []
    for conf_bit, last_top in ((0, 14), (1, 12), (2, 10), (3, 8)):
        tail = list(range(last_top, 4, -1))
        layout += [(conf_bit, b) for b in run * 3 + tail]
    assert len(layout) == 256
    return layout


@lru_cache(maxsize=16)
def _masks(crypt_conf: int) -> tuple[tuple[int, int], ...]:
    """For each address bit: the key bits it flips (as a 256-bit big-endian integer mask)."""
    masks: dict[int, int] = {}
    for pos, (conf_bit, addr_bit) in enumerate(_tweak_layout()):
        if crypt_conf >> conf_bit & 1:
            masks[addr_bit] = masks.get(addr_bit, 0) | 1 << (255 - pos)
    return tuple(sorted(masks.items()))


def normalize_key(key: bytes) -> bytes:
    """The 32-byte AES key the engine uses for ``key`` (32 bytes, or 24 bytes from a 3/4 block)."""
    if len(key) == 32:
        return bytes(key)
    if len(key) == 24:
        return bytes(key) + bytes(key[8:16])
    raise UsageError(f"the flash-encryption key has {len(key)} bytes; the ESP32 takes 32 (or 24) bytes",
                     hint="give a 256-bit key file (generate-flash-encryption-key), or 192 bits for 3/4 coding")


def unit_key(key: bytes, address: int, crypt_conf: int = 0xF) -> bytes:
    """The AES-256 key for the 32-byte unit holding ``address``."""
    k = int.from_bytes(normalize_key(key), "big")
    for addr_bit, mask in _masks(crypt_conf & 0xF):
        if address >> addr_bit & 1:
            k ^= mask
    return k.to_bytes(32, "big")


def _check(address: int, data: bytes) -> None:
    if address % BLOCK:
        raise UsageError(f"flash address 0x{address:x} is not a multiple of 16",
                         hint="the ESP32 encrypts flash in 16-byte blocks (32-byte units)")
    if len(data) % BLOCK:
        raise UsageError(f"{len(data)} bytes are not a multiple of 16",
                         hint="pad the data to a multiple of 16 (the chip writes 32-byte units)")
    if address + len(data) > ADDRESS_LIMIT:
        raise UsageError(f"data at 0x{address:x}+0x{len(data):x} reaches past 16 MB",
                         hint="the ESP32 flash-encryption engine only uses address bits 5..23")


def _run(key: bytes, address: int, data: bytes, crypt_conf: int, encrypting: bool) -> bytes:
    _check(address, data)
    out = bytearray()
    pos = 0
    while pos < len(data):
        here = address + pos
        take = min(UNIT - here % UNIT, len(data) - pos)
        cipher = Cipher(algorithms.AES(unit_key(key, here & ~(UNIT - 1), crypt_conf)), modes.ECB())
        # the engine runs AES inverted: encrypting flash content is an AES decryption
        op = cipher.decryptor() if encrypting else cipher.encryptor()
        chunk = data[pos : pos + take]
        flipped = b"".join(chunk[i : i + BLOCK][::-1] for i in range(0, take, BLOCK))
        done = op.update(flipped) + op.finalize()
        out += b"".join(done[i : i + BLOCK][::-1] for i in range(0, take, BLOCK))
        pos += take
    return bytes(out)


def encrypt(key: bytes, address: int, data: bytes, crypt_conf: int = 0xF) -> bytes:
    """What the engine stores in flash at ``address`` for plaintext ``data`` (length multiple of 16)."""
    return _run(key, address, data, crypt_conf, True)


def decrypt(key: bytes, address: int, data: bytes, crypt_conf: int = 0xF) -> bytes:
    """The plaintext of ``data`` read from encrypted flash at ``address``."""
    return _run(key, address, data, crypt_conf, False)
