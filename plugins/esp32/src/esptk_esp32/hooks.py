"""Hook implementations of the ESP32 plugin (thin: the facts live in the modules beside).

Chip-bound hooks are only called for the chips this plugin registers (core's chip_hook dispatch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esptk import hookimpl
from esptk.chip import ChipSpec, KnownChip

from .spec import ESP32, FAMILY

if TYPE_CHECKING:  # flashproto and stub are imported where used: image commands need neither
    from esptk.efuse import EfuseSupport
    from esptk.flashproto import FlashProtocol
    from esptk.image.elf import ElfFile
    from esptk.image.model import ImageFile, ImageInfo, ImageSettings
    from esptk.security import SecurityScheme
    from esptk.simchip import SimChip
    from esptk.stub import StubImage

CHIP = ESP32()


@hookimpl
def esptk_register_chips() -> list[ChipSpec]:
    return [CHIP]


@hookimpl
def esptk_known_chips() -> list[KnownChip]:
    return list(FAMILY)


@hookimpl
def esptk_flash_protocol(chip: ChipSpec, stub: bool) -> FlashProtocol | None:
    if stub:
        return None  # the stub has no quirks: core's default answers
    from .flash import ESP32RomFlash

    return ESP32RomFlash.default_for(chip, stub)


# --- stub (esptk_select_stub) ---------------------------------------------------------------


@hookimpl
def esptk_select_stub(chip: ChipSpec, revision: int | None) -> StubImage | None:
    """Our own stub (built from stubs/ in the esptk repository; see stubs/README.md), ESP32 only."""
    from importlib.resources import files

    from esptk.stub import StubImage

    return StubImage.from_json((files(__package__) / "stub" / "esp32.json").read_text())


# --- images (esptk_build_image, esptk_read_image) ------------------------------------------


@hookimpl
def esptk_build_image(chip: ChipSpec, elf: ElfFile, settings: ImageSettings) -> list[ImageFile] | None:
    from .image import build_image

    return build_image(chip, elf, settings)


@hookimpl
def esptk_read_image(chip: ChipSpec, data: bytes) -> ImageInfo | None:
    from .image import read_image

    return read_image(chip, data)


# --- virtual chip (esptk_sim_chip) ---------------------------------------------------------


@hookimpl
def esptk_sim_chip(chip: ChipSpec, options: dict[str, str]) -> SimChip | None:
    from .sim import make_sim_chip

    return make_sim_chip(CHIP, options)


# --- eFuses (esptk_efuse) -------------------------------------------------------------------


@hookimpl
def esptk_efuse(chip: ChipSpec) -> EfuseSupport:
    from .efuse import ESP32Efuse

    return ESP32Efuse()


# --- secure boot and flash encryption (esptk_security) -----------------------------------------


@hookimpl
def esptk_security(chip: ChipSpec) -> SecurityScheme | None:
    from .secure import ESP32Security

    return ESP32Security()
