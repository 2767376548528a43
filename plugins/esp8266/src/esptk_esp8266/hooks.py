"""Hook implementations of the ESP8266 plugin (thin: the facts live in the modules beside).

Chip-bound hooks are only called for the chips this plugin registers (core's chip_hook dispatch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esptk import hookimpl
from esptk.chip import ChipSpec

from .spec import ESP8266

if TYPE_CHECKING:  # flashproto and stub are imported where used: image commands need neither
    from esptk.flashproto import FlashProtocol
    from esptk.image.elf import ElfFile
    from esptk.image.model import ImageFile, ImageInfo, ImageSettings
    from esptk.simchip import SimChip
    from esptk.stub import StubImage

CHIP = ESP8266()


@hookimpl
def esptk_register_chips() -> list[ChipSpec]:
    return [CHIP]


@hookimpl
def esptk_flash_protocol(chip: ChipSpec, stub: bool) -> FlashProtocol | None:
    from .flash import ESP8266RomFlash, ESP8266StubFlash

    return (ESP8266StubFlash if stub else ESP8266RomFlash).default_for(chip, stub)


# --- stub (esptk_select_stub) ---------------------------------------------------------------


@hookimpl
def esptk_select_stub(chip: ChipSpec, revision: int | None) -> StubImage | None:
    """Our own stub (built from stubs/ in the esptk repository; see stubs/README.md), ESP8266 only,
    with its stage-1 loader: the ROM cannot change its baud rate, the loader can (two-stage start)."""
    from dataclasses import replace
    from importlib.resources import files

    from esptk.stub import StubImage

    folder = files(__package__) / "stub"
    stage1 = StubImage.from_json((folder / "esp8266-stage1.json").read_text())
    return replace(StubImage.from_json((folder / "esp8266.json").read_text()), stage1=stage1)


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
