"""esptk: a toolkit for the ROM serial bootloader of Espressif ESP8266 and ESP32 chips.

Plugins import ``hookimpl`` from here. Nothing is loaded at import time: the CLI (or a library
user) calls :func:`esptk.plugins.make_plugin_manager`.
"""

import pluggy

__version__ = "0.1.0"

#: version of the hook API; bumped only on a breaking change of a hook spec
HOOK_API = 1

hookimpl = pluggy.HookimplMarker("esptk")

__all__ = ["HOOK_API", "__version__", "hookimpl"]
