"""Build a virtual chip from a chip name and settings, with the chip facts from the chip plugins."""

from __future__ import annotations

import os
from typing import Any

from esptk.errors import EsptkError, UsageError

from .engine import VirtualChip
from .nor import NorFlash
from .options import SimOptions, parse_options


def make_chip(chip: str, given: dict[str, str], registry: Any = None) -> VirtualChip:
    """A powered-off virtual ``chip`` (call ``power_on``); flash content from ``flash_file`` if set."""
    options = parse_options(chip, given)
    if registry is None:
        from esptk.plugins import make_plugin_manager

        registry = make_plugin_manager()
    try:
        spec = registry.chip(chip)
    except EsptkError as e:
        have = ", ".join(sorted(registry.chips)) or "none installed"
        raise UsageError(f"unknown chip {chip!r} for the virtual chip", hint=f"chips: {have}") from e
    model = registry.hook.esptk_sim_chip(chip=spec, options=options.raw)
    if model is None:
        raise UsageError(f"no virtual-chip model for {spec.description}",
                         hint="the chip plugin does not implement esptk_sim_chip")
    flash = NorFlash.load(options.flash_file, options.flash_size) if options.flash_file else None
    vc = VirtualChip(model, options, flash)
    image = registry.hook.esptk_select_stub(chip=spec, revision=None)
    if image is not None:  # which protocol our stub speaks (timing model)
        vc.our_protocol = image.protocol_version
    return vc


def save_flash(vc: VirtualChip, options: SimOptions | None = None) -> None:
    """Write the flash back to ``flash_file`` (atomically) if it changed or the file does not exist yet."""
    path = (options or vc.options).flash_file
    if path and (vc.flash.dirty or not os.path.exists(path)):
        vc.flash.save(path)
