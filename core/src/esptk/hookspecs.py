"""esptk hook specifications: the reference manual for plugin authors.

Every hook name starts with ``esptk_``. Hosts call hooks with keyword arguments only, so a plugin
may implement a hook with fewer arguments than the spec lists (pluggy's opt-in arguments). Arguments
are only ever added, never renamed or removed; a breaking change bumps ``esptk.HOOK_API``.

Two kinds of hooks:

* *collect* hooks: every implementation runs and core gathers the results (registration);
* *firstresult* hooks: implementations run newest-registered first and the first non-``None``
  result wins. An implementation returns ``None`` for input it does not own ("not mine").
  Core's own defaults are registered with ``trylast=True``, so any plugin overrides them.

*Chip-bound* hooks (those taking a ``chip`` that core knows the owner of: stub, flash protocol,
images, virtual chip, eFuse) are called through ``Registry.chip_hook(chip)``: only the plugin that
registered ``chip``, plugins that register no chip (extensions) and core's built-ins see the call.

Types used here: :class:`esptk.chip.ChipSpec`, :class:`esptk.chip.KnownChip`,
:class:`esptk.transport.Transport` and :class:`~esptk.transport.Capability`,
:class:`esptk.reset.ResetSequence`, :class:`esptk.stub.StubImage`,
:class:`esptk.flashproto.FlashProtocol`, :mod:`esptk.image` types, :class:`esptk.simchip.SimChip`,
:class:`esptk.security.SecurityScheme`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .chip import ChipSpec, KnownChip
    from .efuse import EfuseSupport
    from .flashproto import FlashProtocol
    from .image.elf import ElfFile
    from .image.model import ImageFile, ImageInfo, ImageSettings
    from .ports import PortInfo
    from .reset import ResetSequence
    from .security import SecurityScheme
    from .simchip import SimChip
    from .stub import StubImage
    from .transport import Capability, Transport

hookspec = pluggy.HookspecMarker("esptk")

# ============================================================================================
# Registration (collect): core builds name-keyed registries; a duplicate name is a PluginError.
# ============================================================================================


@hookspec
def esptk_register_chips() -> Sequence[ChipSpec]:
    """Chips this plugin drives.

    Called once when the plugin manager is built. Return :class:`~esptk.chip.ChipSpec` instances;
    each ``name`` must be unique across all plugins (it is what users type after ``--chip``).
    """


@hookspec
def esptk_known_chips() -> Sequence[KnownChip]:
    """Chips this plugin can *name* from their detection magic value but does not drive.

    Used only for error messages ("this is an ESP32-S3; no plugin for it is installed").
    """


@hookspec
def esptk_register_transports() -> Sequence[type[Transport]]:
    """Transport classes this plugin provides.

    Each class lists its URL schemes in ``SCHEMES``; a scheme must be unique across plugins.
    Bare device paths (``/dev/ttyUSB0``, ``COM3``) belong to the ``serial`` scheme.
    """


@hookspec
def esptk_list_ports() -> Sequence[PortInfo]:
    """Serial ports this transport plugin can open (``esptk list-ports``, choosing a port without
    ``--port``), with USB VID/PID, serial number and manufacturer where known.
    """


# ============================================================================================
# Connection (collect, flattened in order): entering and leaving the ROM loader.
# ============================================================================================


@hookspec
def esptk_reset_sequences(
    mode: str, capabilities: Capability, chip: ChipSpec | None
) -> Sequence[ResetSequence]:
    """Candidate reset sequences for ``mode``, tried in order (cycled over connect attempts).

    :param mode: a ``--before`` value (``default_reset``, ``no_reset``, ``no_reset_no_sync``,
        ``esp32r0``, ``usb_reset``) or an ``--after`` value (``hard_reset``).
    :param capabilities: what the link can do; return ``[]`` when it has no control lines.
    :param chip: the chip if already known (``--chip``), else ``None``.

    The results of all plugins are concatenated, plugins registered last first; use
    ``tryfirst``/``trylast`` to place yours.
    """


# ============================================================================================
# Stub and flash (firstresult): exactly one owner per chip.
# ============================================================================================


@hookspec(firstresult=True)
def esptk_select_stub(chip: ChipSpec, revision: int | None) -> StubImage | None:
    """The RAM stub to upload to ``chip`` (of ``revision``, if known), or ``None`` if not yours.

    Chip-bound, stops at first non-None result. With no answer at all, esptk talks to the ROM
    loader.
    """


@hookspec(firstresult=True)
def esptk_flash_protocol(chip: ChipSpec, stub: bool) -> FlashProtocol | None:
    """How ``chip``'s loader does flash operations (``stub``: the stub runs, else the ROM).

    Chip-bound, stops at first non-None result. Core answers last with
    :meth:`FlashProtocol.default_for <esptk.flashproto.FlashProtocol.default_for>`; a chip plugin
    returns a subclass where its loader has quirks (erase-size bug, attach form, baud correction).
    """


# ============================================================================================
# Images (firstresult): building, reading and patching firmware images.
# ============================================================================================


@hookspec(firstresult=True)
def esptk_build_image(chip: ChipSpec, elf: ElfFile, settings: ImageSettings) -> list[ImageFile] | None:
    """Turn ``elf`` into the chip's flashable image file(s).

    Chip-bound, stops at first non-None result. Returns one :class:`~esptk.image.model.ImageFile` per output
    file (name suffix and bytes); core writes them (never half-written). Raise
    :class:`~esptk.errors.ImageError` for an ELF that cannot become an image.
    """


@hookspec(firstresult=True)
def esptk_read_image(chip: ChipSpec, data: bytes) -> ImageInfo | None:
    """Parse a firmware image of ``chip`` for ``image-info`` and header patching.

    Chip-bound, stops at first non-None result. Raise :class:`~esptk.errors.ImageError` if
    ``data`` is not a valid image of the chip.
    """


# ============================================================================================
# The virtual chip (firstresult): chip facts for the sim:// transport.
# ============================================================================================


@hookspec(firstresult=True)
def esptk_sim_chip(chip: ChipSpec, options: dict[str, str]) -> SimChip | None:
    """A model of ``chip``'s ROM loader for the virtual chip. Chip-bound, first non-None result.

    :param options: the user's settings (``mac``, ``flash_id`` ...), already validated by the
        sim transport where they are generic.
    """


# ============================================================================================
# Security capabilities (firstresult, chip-bound): eFuses, secure boot and flash encryption.
# ============================================================================================


@hookspec(firstresult=True)
def esptk_efuse(chip: ChipSpec) -> EfuseSupport | None:
    """``chip``'s eFuses: an :class:`~esptk.efuse.EfuseSupport` with the layout (blocks, fields,
    protection bits), the coding schemes and the program/read sequence, or ``None`` (no eFuse support).

    Chip-bound, stops at first non-None result. The ``esptk efuse`` commands are generic: they work
    on every chip whose plugin answers.
    """


@hookspec(firstresult=True)
def esptk_security(chip: ChipSpec) -> SecurityScheme | None:
    """``chip``'s secure boot and flash encryption schemes, or ``None`` (no such features).

    Chip-bound, stops at first non-None result. The returned :class:`~esptk.security.SecurityScheme` signs,
    verifies, digests and encrypts (``esptk secure``) and reads the eFuse facts that ``write-flash``
    checks (refusing plaintext writes under flash encryption, protecting a secure-boot bootloader).
    A chip without such features simply does not answer.
    """


# ============================================================================================
# Extras.
# ============================================================================================


@hookspec
def esptk_add_commands(app: Any) -> None:
    """Add commands to the ``esptk`` command line.

    :param app: the root ``typer.Typer`` application. Only plugins implementing this hook may
        depend on typer. Return value ignored.
    """
