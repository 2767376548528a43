"""Build a virtual chip from a chip name and settings, with the chip facts from the chip plugins."""

from __future__ import annotations

import os
from typing import Any

from esptk.errors import EsptkError, TransportError, UsageError

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
    model = registry.chip_hook(spec).esptk_sim_chip(chip=spec, options=options.raw)
    if model is None:
        raise UsageError(f"no virtual-chip model for {spec.description}",
                         hint="the chip plugin does not implement esptk_sim_chip")
    flash = _load_flash(options.flash_file, options.flash_size) if options.flash_file else None
    vc = VirtualChip(model, options, flash)
    image = registry.chip_hook(spec).esptk_select_stub(chip=spec, revision=None)
    if image is not None:  # which protocol our stub speaks (timing model)
        vc.our_protocol = image.protocol_version
    return vc


def _load_flash(path: str, size: int) -> NorFlash:
    """Refuse now, not when the chip is powered off, a flash file that could not be saved."""
    hint = "flash_file names a file in an existing, writable folder"
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"flash file {path} is a directory", hint=hint)
    if os.path.exists(path) and not os.path.isfile(path):
        raise UsageError(f"flash file {path} is not a regular file", hint=hint)
    if not os.path.isdir(folder):
        raise UsageError(f"the folder of flash file {path} does not exist", hint=hint)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write flash file {path}: the folder is not writable", hint=hint)
    try:
        return NorFlash.load(path, size)
    except OSError as e:
        raise UsageError(f"cannot read flash file {path}: {e.strerror or e}", hint=hint) from None


def save_flash(vc: VirtualChip, options: SimOptions | None = None) -> None:
    """Write the flash back to ``flash_file`` (atomically) if it changed or the file does not exist yet."""
    for dev in vc.chip.devices:
        dev.close()  # peripheral models persist their state (eFuse file ...)
    path = (options or vc.options).flash_file
    if path and (vc.flash.dirty or not os.path.exists(path)):
        try:
            vc.flash.save(path)
        except OSError as e:
            raise TransportError(f"cannot save the virtual flash to {path}: {e.strerror or e}",
                                 hint="check the free space and the folder's permissions") from None
