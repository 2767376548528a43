"""The context object every command receives (``ctx.obj``): global options and lazy services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plugins import Registry

_REGISTRY: Registry | None = None


def registry() -> Registry:
    """The process's plugin registry, built on first use (never at import time)."""
    global _REGISTRY
    if _REGISTRY is None:
        from ..plugins import make_plugin_manager

        _REGISTRY = make_plugin_manager()
    return _REGISTRY


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
