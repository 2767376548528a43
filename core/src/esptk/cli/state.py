"""The context object every command receives (``ctx.obj``): global options and lazy services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plugins import Registry

_REGISTRY: Registry | None = None

#: set by :func:`esptk.cli.main`: logging is configured for its run when something may log
LOGGING: dict[str, bool] = {"wanted": False, "debug": False}
#: the program name main() runs as: "esptool" (the compat entry points) keeps esptool's semantics
#: where esptk's own are stricter (an unaligned write erases its sector's other bytes with a note)
PROG: dict[str, str] = {"name": "esptk"}


def configure_logging() -> None:
    """``warning: ...`` lines on stderr (all messages with --debug), as main() asks; called before
    anything logs (typer runs, a plugin's warning), so that runs that never log never import logging."""
    if LOGGING["wanted"]:
        import logging

        logging.basicConfig(level=logging.DEBUG if LOGGING["debug"] else logging.WARNING,
                            format="warning: %(message)s")


def registry() -> Registry:
    """The process's plugin registry, built on first use (never at import time)."""
    global _REGISTRY
    if _REGISTRY is None:
        from .. import plugins
        from ..plugins import make_plugin_manager

        plugins.before_warning = configure_logging
        _REGISTRY = make_plugin_manager()
    return _REGISTRY


_PARTIAL: dict[str, Registry] = {}


def registry_for_chip(name: str) -> Registry:
    """For offline commands that name the chip: a registry with only that chip's plugin (no
    transports, no other chips: faster start-up). Falls back to the full registry."""
    import os

    from ..errors import EsptkError

    key = name.lower().replace("-", "").replace("_", "")
    if key == "auto" or os.environ.get("ESPTK_PLUGINS") is not None:
        return registry()
    if key not in _PARTIAL:
        from .. import plugins
        from ..plugins import make_plugin_manager

        plugins.before_warning = configure_logging
        _PARTIAL[key] = make_plugin_manager(allow={key})
    try:
        _PARTIAL[key].chip(name)
    except EsptkError:  # the chip comes from a plugin of another name
        return registry()
    return _PARTIAL[key]


@dataclass
class AppState:
    chip: str = "auto"
    port: str | None = None
    baud: int = 115200
    before: str = "default_reset"
    after: str = "hard_reset"
    no_stub: bool = False
    trace: bool = False
    connect_attempts: int = 7
    #: esptool.cfg's reset_delay (None: the built-in 0.05 s), open_port_attempts, write_block_attempts
    reset_delay: float | None = None
    open_port_attempts: int = 1
    write_block_attempts: int = 3
    json: bool = False
    debug: bool = False
    quiet: bool = False
    verbose: bool = False
    log_format: str = "auto"
    port_filter: tuple[str, ...] = ()
    override_vddsdio: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def registry(self) -> Registry:
        return registry()
