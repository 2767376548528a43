"""What a chip plugin offers for secure boot and flash encryption (hook ``esptk_security``).

Core knows no chip's schemes: the commands of ``esptk secure`` and the security checks of
``write-flash`` work through a :class:`SecurityScheme` that the chip's plugin returns. Everything
here is pure data in, data out: files are read and written by the caller, messages worth showing
come back in ``notes`` (library code never prints).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .chip import RegisterAccess


@dataclass(frozen=True)
class SecurityState:
    """The eFuse facts that decide whether (and how) flash may be written or erased."""

    flash_encryption: bool  #: flash encryption is on (the engine decrypts reads of the app)
    download_encrypt_disabled: bool  #: the loader may not write through the encryption engine
    secure_boot: bool  #: any secure boot version is enabled
    secure_boot_v1: bool  #: secure boot v1: the bootloader region is protected
    crypt_config: int  #: the key tweak setting (FLASH_CRYPT_CONFIG on the ESP32)

    def as_dict(self) -> dict[str, Any]:
        return {"flash_encryption": self.flash_encryption,
                "download_encrypt_disabled": self.download_encrypt_disabled,
                "secure_boot": self.secure_boot, "secure_boot_v1": self.secure_boot_v1,
                "crypt_config": self.crypt_config}


@dataclass
class Result:
    """Output bytes of a scheme operation and what the user should be told about it."""

    data: bytes = b""
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  #: extra JSON-able facts (digests, counts)


class SecurityScheme(Protocol):
    """A chip family's secure boot and flash encryption (returned by ``esptk_security``).

    Keys come in as the bytes of the user's key files (PEM, or raw for the symmetric keys).
    Every operation raises :class:`~esptk.errors.EsptkError` subclasses for bad input.
    """

    #: secure boot versions the family knows, e.g. (1, 2)
    secure_boot_versions: Sequence[int]
    #: key sizes (bits) ``generate_flash_key`` accepts; the first is the default
    flash_key_bits: Sequence[int]
    #: with secure boot v1, writes below this address would overwrite the protected bootloader
    bootloader_end: int
    #: flash units (bytes) the encryption engine works on: encrypted writes are aligned and padded to it
    encrypt_unit: int
    #: the ROM loader can write through the encryption engine (else only a stub can)
    rom_encrypted_write: bool

    def secure_boot_for_revision(self, revision: int) -> Sequence[int]:
        """Versions a chip of ``revision`` (e.g. 300 = v3.0) supports."""
        ...

    # --- keys ---------------------------------------------------------------------------------
    def generate_signing_key(self, version: int, scheme: str | None) -> Result: ...

    def extract_public_key(self, version: int, key: bytes) -> Result: ...

    def digest_private_key(self, key: bytes, bits: int) -> Result: ...

    def digest_public_key(self, key: bytes) -> Result:
        """Secure boot v2: the digest of the public key that is burnt into eFuse."""
        ...

    def generate_flash_key(self, bits: int) -> Result: ...

    # --- secure boot --------------------------------------------------------------------------
    def digest_bootloader(self, key: bytes, image: bytes, iv: bytes | None) -> Result: ...

    def sign(self, version: int, data: bytes, keys: Sequence[bytes], *, pub_keys: Sequence[bytes] = (),
             signatures: Sequence[bytes] = (), append: bool = False, skip_padding: bool = False) -> Result:
        """Signed ``data`` (version 1: data + signature; version 2: content + signature sector)."""
        ...

    def verify(self, version: int, data: bytes, key: bytes, skip_padding: bool = False) -> Result:
        """Raise :class:`~esptk.errors.SignatureError` unless ``data`` verifies with ``key``."""
        ...

    def signature_info(self, data: bytes) -> Result: ...

    # --- flash encryption ---------------------------------------------------------------------
    def encrypt_flash(self, key: bytes, address: int, data: bytes, crypt_config: int | None) -> Result: ...

    def decrypt_flash(self, key: bytes, address: int, data: bytes, crypt_config: int | None) -> Result: ...

    # --- the connected chip -------------------------------------------------------------------
    def read_state(self, regs: RegisterAccess) -> SecurityState:
        """Read the eFuse words the flash-writing checks need."""
        ...

    def flash_key_valid(self, regs: RegisterAccess) -> bool:
        """A flash-encryption key is programmed (or read-protected, hence assumed to be)."""
        ...
