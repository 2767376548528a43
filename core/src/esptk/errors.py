"""One error tree for everything esptk reports to a user.

Every error carries a one-line ``message`` and an optional ``hint`` (what to check or try).
The CLI prints ``error: <message>`` and ``hint: <hint>`` and exits with code 1; anything that is
not an :class:`EsptkError` reaching the CLI is a bug and is shown as such.
"""

from __future__ import annotations


class EsptkError(Exception):
    """Root of all errors esptk raises on purpose."""

    default_hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message


class UsageError(EsptkError):
    """The user's input is wrong: a bad number, a missing file, overlapping regions."""


class PluginError(EsptkError):
    """A plugin could not be loaded or registered something invalid."""


class PluginLoadError(PluginError):
    """A plugin failed while loading; the original exception is ``__cause__``."""


class DuplicateName(PluginError):
    """Two plugins registered the same chip name or transport scheme."""


class TransportError(EsptkError):
    """The link to the chip failed: the port is missing, busy or went away."""


class PortNotFound(TransportError):
    default_hint = "check the port name (esptk lists none by itself: try 'ls /dev/tty*')"


class PortBusy(TransportError):
    default_hint = "another program holds the port: close serial monitors (e.g. 'fuser PORT' shows who)"


class LinkLost(TransportError):
    default_hint = "check the cable and that the board still has power"


class ProtocolError(EsptkError):
    """The chip answered something the protocol does not allow, or did not answer."""


class SyncFailed(ProtocolError):
    default_hint = (
        "hold BOOT/GPIO0 low while resetting the board, check the port and the cable, "
        "or try --before no-reset"
    )


class CommandTimeout(ProtocolError):
    default_hint = "the chip stopped answering: check the cable, lower --baud, or reset the board"


class CommandFailed(ProtocolError):
    """The loader answered with an error status (ROM or stub error code)."""

    def __init__(self, message: str, status: int = 0, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class UnsupportedCommand(CommandFailed):
    """The loader does not implement the command (e.g. compression on the ESP8266 ROM)."""


class LoaderChanged(CommandFailed):
    """Another loader answers than the one we talk to (the chip reset into its ROM, or a stub runs)."""

    default_hint = "the chip reset during the operation: check its power supply, then retry"


class ChipError(EsptkError):
    """The chip is not the one expected, or no plugin can drive it."""


class UnsupportedChip(ChipError):
    default_hint = "install the plugin for this chip, or check --chip"


class ChipMismatch(ChipError):
    default_hint = "use --chip auto, or name the chip that is really attached"


class FlashError(EsptkError):
    """A flash operation failed or the content did not verify."""


class VerifyError(FlashError):
    default_hint = "the flash content differs from the file: write it again"


class ImageError(EsptkError):
    """An ELF or firmware image is invalid or cannot be built."""


class SecurityError(EsptkError):
    """A secure boot or flash encryption rule forbids the operation, or a key is unusable."""


class SignatureError(SecurityError):
    """A signature does not verify, or a signed image is malformed."""
