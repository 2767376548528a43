"""Safety checks of writing and erasing flash on a chip with secure boot or flash encryption.

The chip's plugin reads the eFuse facts (:class:`~esptk.security.SecurityScheme`); the rules are
generic: never overwrite a secure-boot v1 bootloader, never write plaintext where the chip can only
boot encrypted data, never erase a secured chip, unless the user says ``--force``. Encrypted writes
need a loader that writes through the chip's encryption engine and a programmed key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .errors import SecurityError, UsageError
from .protocol import caps

if TYPE_CHECKING:
    from .flasher import Region
    from .security import SecurityScheme, SecurityState
    from .session import Session

FORCE_HINT = "add --force if you really mean it"


@dataclass
class WriteCheck:
    """What the checks found: the regions to write (encrypted ones padded to the engine's unit),
    warnings for the user, and whether the flash settings in image headers may be patched."""

    regions: list[Region]
    warnings: list[str] = field(default_factory=list)
    patch_headers: bool = True
    state: SecurityState | None = None


def scheme_of(s: Session) -> SecurityScheme | None:
    return s.registry.chip_hook(s.chip).esptk_security(chip=s.chip)


def check_write(s: Session, regions: Sequence[Region], force: bool = False,
                ignore_flash_enc_efuse: bool = False) -> WriteCheck:
    """Raise :class:`SecurityError` if writing ``regions`` is unsafe or impossible; else report."""
    encrypted = [r for r in regions if r.encrypt]
    sc = scheme_of(s)
    if sc is None:
        if encrypted:
            raise SecurityError(f"the {s.chip.description} has no flash encryption",
                                hint="drop --encrypt / --encrypt-files")
        return WriteCheck(list(regions))
    state = sc.read_state(s.loader)
    unit = sc.encrypt_unit
    out = WriteCheck([replace(r, data=r.data + b"\xff" * (-len(r.data) % unit)) if r.encrypt else r
                      for r in regions], state=state)
    if state.secure_boot_v1 and not force:
        low = [r for r in regions if r.address < sc.bootloader_end]
        if low:
            raise SecurityError(
                f"secure boot v1 is enabled: writing at 0x{low[0].address:x} (below 0x{sc.bootloader_end:x}) "
                "would overwrite the protected bootloader", hint=FORCE_HINT)
    if encrypted:
        out.warnings += _check_encrypted(s, sc, state, encrypted, ignore_flash_enc_efuse)
    if len(encrypted) < len(regions) and not force and state.flash_encryption and state.download_encrypt_disabled:
        raise SecurityError(
            "flash encryption is on and the loader may not encrypt: plaintext written now cannot boot "
            "(the chip would decrypt it)", hint="write data encrypted with the device's key (esptk secure "
            "encrypt-flash-data), with --force")
    if state.secure_boot:
        out.patch_headers = False
    return out


def _check_encrypted(s: Session, sc: SecurityScheme, state: SecurityState, regions: Sequence[Region],
                     ignore: bool) -> list[str]:
    if not s.stub and not sc.rom_encrypted_write:
        raise SecurityError(f"the {s.chip.description} ROM loader cannot write encrypted data",
                            hint="the stub can: drop --no-stub")
    if s.stub and s.stub_version is not None and not s.stub_version.capabilities & caps.ENCRYPTED_WRITE:
        raise SecurityError("the running stub cannot write through the flash-encryption engine",
                            hint="update esptk (its stub advertises encrypted writes when it can do them)")
    if state.download_encrypt_disabled:
        raise SecurityError("this chip's loader may not encrypt (download-mode encryption is disabled: "
                            "flash encryption in release mode)",
                            hint="encrypt with the key yourself (esptk secure encrypt-flash-data) and write "
                            "the result with --force; without the key the flash cannot be rewritten")
    problems = []
    if state.crypt_config != 0xF:
        problems.append(f"the key tweak setting is 0x{state.crypt_config:x}, not 0xf")
    if not sc.flash_key_valid(s.loader):
        problems.append("no flash-encryption key is programmed")
    problems += [f"0x{r.address:x} ({r.name or 'data'}) is not {sc.encrypt_unit}-byte aligned"
                 for r in regions if r.address % sc.encrypt_unit]
    if problems and not ignore:
        raise SecurityError("cannot write encrypted: " + "; ".join(problems),
                            hint="--ignore-flash-enc-efuse writes anyway (the result may not boot)")
    return problems


def check_erase(s: Session, force: bool = False) -> None:
    """Refuse to erase a chip with flash encryption or secure boot on, unless forced."""
    if force:
        return
    sc = scheme_of(s)
    if sc is None:
        return
    state = sc.read_state(s.loader)
    if state.flash_encryption or state.secure_boot:
        on = " and ".join(n for n, v in (("flash encryption", state.flash_encryption),
                                         ("secure boot", state.secure_boot)) if v)
        raise SecurityError(f"{on} is on: erasing flash is refused as a safety measure", hint=FORCE_HINT)


def exclusive(encrypt: bool, encrypt_files: Sequence[str]) -> None:
    if encrypt and encrypt_files:
        raise UsageError("--encrypt and --encrypt-files exclude each other",
                         hint="--encrypt encrypts every file; --encrypt-files only the files after it")
