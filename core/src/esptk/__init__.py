"""esptk: a toolkit for the ROM serial bootloader of Espressif ESP8266 and ESP32 chips.

Plugins import ``hookimpl`` from here. Nothing is loaded at import time: the CLI (or a library
user) calls :func:`esptk.plugins.make_plugin_manager`; pluggy itself is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: version of the hook API; bumped only on a breaking change of a hook spec
HOOK_API = 1

if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("esptk")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module 'esptk' has no attribute {name!r}")


__all__ = ["HOOK_API", "__version__", "hookimpl"]
