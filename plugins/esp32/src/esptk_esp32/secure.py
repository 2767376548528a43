"""The ESP32's secure boot (v1; v2 from chip revision 3.0) and flash encryption, as one scheme object.

The algorithms (and ``cryptography`` under them) are imported by the methods that use them: a
write-flash asks this object for the chip's security state and must not pay for their import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from esptk.errors import SecurityError
from esptk.security import Result, SecurityState

from .spec import EFUSE_BASE, ESP32

if TYPE_CHECKING:
    from esptk.chip import RegisterAccess

BLOCK1_WORDS = tuple(EFUSE_BASE + 0x38 + 4 * i for i in range(8))
DEFAULT_CRYPT_CONFIG = 0xF


def _version(version: int) -> None:
    if version not in (1, 2):
        raise SecurityError(f"the ESP32 has secure boot versions 1 and 2, not {version}", hint="use --version 1 or 2")


class ESP32Security:
    secure_boot_versions: Sequence[int] = (1, 2)
    flash_key_bits: Sequence[int] = (256, 192)
    bootloader_end = 0x8000
    encrypt_unit = 32
    rom_encrypted_write = False

    def secure_boot_for_revision(self, revision: int) -> Sequence[int]:
        return (1, 2) if revision >= 300 else (1,)

    # --- keys -----------------------------------------------------------------------------------
    def generate_signing_key(self, version: int, scheme: str | None) -> Result:
        from . import secure_keys

        _version(version)
        return Result(secure_keys.generate(version, scheme))

    def extract_public_key(self, version: int, key: bytes) -> Result:
        from . import secure_v1, secure_v2

        _version(version)
        return Result(secure_v1.extract_public(key) if version == 1 else secure_v2.extract_public(key))

    def digest_private_key(self, key: bytes, bits: int) -> Result:
        from . import secure_keys

        return Result(secure_keys.digest_private(key, bits))

    def digest_public_key(self, key: bytes) -> Result:
        from . import secure_v2

        digest = secure_v2.public_key_digest(key)
        return Result(digest, [], {"digest": digest.hex()})

    def generate_flash_key(self, bits: int) -> Result:
        from . import secure_keys

        return Result(secure_keys.random_key(bits, tuple(self.flash_key_bits)))

    # --- secure boot ------------------------------------------------------------------------------
    def digest_bootloader(self, key: bytes, image: bytes, iv: bytes | None) -> Result:
        from . import secure_v1
        from .image import read_image

        read_image(ESP32(), image)  # an ImageError for anything that is not an ESP32 image
        return secure_v1.digest_bootloader(key, image, iv)

    def sign(self, version: int, data: bytes, keys: Sequence[bytes], *, pub_keys: Sequence[bytes] = (),
             signatures: Sequence[bytes] = (), append: bool = False, skip_padding: bool = False) -> Result:
        from . import secure_v1, secure_v2

        _version(version)
        if version == 1:
            return secure_v1.sign(data, keys, pub_keys, signatures)
        return secure_v2.sign(data, keys, pub_keys, signatures, append, skip_padding)

    def verify(self, version: int, data: bytes, key: bytes, skip_padding: bool = False) -> Result:
        from . import secure_v1, secure_v2

        _version(version)
        return secure_v1.verify(data, key) if version == 1 else secure_v2.verify(data, key, skip_padding)

    def signature_info(self, data: bytes) -> Result:
        from . import secure_v2

        return secure_v2.info(data)

    # --- flash encryption ---------------------------------------------------------------------------
    def _flash_args(self, key: bytes, crypt_config: int | None) -> tuple[list[str], int]:
        notes = []
        if len(key) == 24:
            notes.append("Using a 192-bit key (extended to 256 bits as the chip does)")
        conf = DEFAULT_CRYPT_CONFIG if crypt_config is None else crypt_config
        if not 0 <= conf <= 0xF:
            raise SecurityError(f"flash crypt config 0x{conf:x} is not a 4-bit value",
                                hint="use 0x0 .. 0xF (default 0xF)")
        if conf == 0:
            notes.append("flash crypt config 0 uses the same key everywhere: not recommended")
        return notes, conf

    def encrypt_flash(self, key: bytes, address: int, data: bytes, crypt_config: int | None) -> Result:
        from . import flash_crypt

        notes, conf = self._flash_args(key, crypt_config)
        pad = -len(data) % flash_crypt.BLOCK
        if pad:
            notes.append(f"Padding the data with {pad} bytes of 0xFF to a multiple of 16")
        return Result(flash_crypt.encrypt(key, address, data + b"\xff" * pad, conf), notes)

    def decrypt_flash(self, key: bytes, address: int, data: bytes, crypt_config: int | None) -> Result:
        from . import flash_crypt

        notes, conf = self._flash_args(key, crypt_config)
        return Result(flash_crypt.decrypt(key, address, data, conf), notes)

    # --- the connected chip ---------------------------------------------------------------------------
    def read_state(self, regs: RegisterAccess) -> SecurityState:
        w0 = regs.read_reg(EFUSE_BASE)
        w5 = regs.read_reg(EFUSE_BASE + 0x14)
        w6 = regs.read_reg(EFUSE_BASE + 0x18)
        abs_done_0, abs_done_1 = bool(w6 >> 4 & 1), bool(w6 >> 5 & 1)
        v2 = abs_done_1 and not abs_done_0 and ESP32().revision(regs) >= 300  # v2 exists from v3.0
        config_hidden = bool(w0 >> 19 & 1)  # RD_DIS bit 3 hides FLASH_CRYPT_CONFIG: assume 0xF
        return SecurityState(
            flash_encryption=bin(w0 >> 20 & 0x7F).count("1") % 2 == 1,
            download_encrypt_disabled=bool(w6 >> 7 & 1),
            secure_boot=abs_done_0 or v2,
            secure_boot_v1=abs_done_0,
            crypt_config=0xF if config_hidden else w5 >> 28 & 0xF,
        )

    def flash_key_valid(self, regs: RegisterAccess) -> bool:
        if regs.read_reg(EFUSE_BASE) >> 16 & 1:  # RD_DIS bit 0 hides BLOCK1: assume a key is there
            return True
        return any(regs.read_reg(a) for a in BLOCK1_WORDS)
