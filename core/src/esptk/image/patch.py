"""Changing flash mode/frequency/size in the header of a bootloader image (PROTOCOL.md 8.2, 8.3)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ..errors import ImageError, UsageError

if TYPE_CHECKING:
    from ..chip import ChipSpec

KEEP = "keep"


def flash_code(table: dict[str, int], name: str, what: str, chip: ChipSpec) -> int:
    """The header code of ``name`` in one of the chip's flash tables; a UsageError if unknown."""
    if name in table:
        return table[name]
    raise UsageError(f"{what} '{name}' is not valid for {chip.description}",
                     hint="choose one of " + ", ".join(table))


def patch_flash_params(
    registry: Any, chip: ChipSpec, data: bytes, offset: int, flash_mode: str | None = None,
    flash_freq: str | None = None, flash_size: str | None = None,
) -> tuple[bytes, list[str]]:
    """Return ``data`` with the chosen flash parameters written into its image header.

    :param registry: the plugin registry (``esptk.cli.state.registry()``); its
        ``esptk_read_image`` hook checks that ``data`` is a well-formed image of ``chip``.
    :param chip: the target chip; only data written at ``chip.bootloader_offset`` is patched.
    :param data: the file content that will be written at ``offset``.
    :param offset: flash address of ``data``.
    :param flash_mode, flash_freq, flash_size: names from the chip's tables (``dio``, ``80m``,
        ``4MB``), or ``None``/``"keep"`` to leave that field alone. Resolve ``detect`` before calling.
    :returns: ``(new_data, warnings)``. The data comes back unchanged (with a warning) when it
        does not parse as an image; if the image carries an appended SHA-256 (ESP32 style), the
        digest is recomputed over the patched bytes. Raises UsageError for a name the chip lacks.
    """
    mode = None if flash_mode in (None, KEEP) else flash_code(chip.flash_mode_codes, str(flash_mode),
                                                               "flash mode", chip)
    freq = None if flash_freq in (None, KEEP) else flash_code(chip.flash_freq_codes, str(flash_freq),
                                                               "flash frequency", chip)
    size = None if flash_size in (None, KEEP) else flash_code(chip.flash_size_codes, str(flash_size),
                                                               "flash size", chip)
    if offset != chip.bootloader_offset or (mode is None and freq is None and size is None):
        return data, []
    if len(data) < 8 or data[0] != 0xE9:
        return data, [f"the file at 0x{offset:x} doesn't look like an image, so its flash settings are "
                      "not changed"]
    try:
        info = registry.chip_hook(chip).esptk_read_image(chip=chip, data=data)
    except ImageError as e:
        return data, [f"the file at 0x{offset:x} is not a valid {chip.description} image ({e}), so its "
                      "flash settings are not changed"]
    if info is None:
        return data, [f"no plugin reads {chip.description} images, so flash settings are not changed"]
    out = bytearray(data)
    if mode is not None:
        out[2] = mode
    if size is not None:
        out[3] = (out[3] & 0x0F) | size
    if freq is not None:
        out[3] = (out[3] & 0xF0) | freq
    warnings: list[str] = []
    end = info.data_length
    if info.digest_stored is not None:
        if len(out) >= end + 32:
            out[end:end + 32] = hashlib.sha256(out[:end]).digest()
        else:
            warnings.append("the image's appended SHA-256 is truncated and was not updated")
    return bytes(out), warnings
