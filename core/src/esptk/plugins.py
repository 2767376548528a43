"""Building the plugin manager: lazy, fault-isolated, controllable and visible.

* core's built-in hooks are registered first (so they answer last);
* each entry point of the groups ``esptk.chips`` and ``esptk.transports`` is loaded in its own
  ``try``: a broken plugin is recorded with status ``error`` and never stops the host;
* ``ESPTK_PLUGINS`` (comma-separated allowlist) and ``ESPTK_DISABLE_PLUGINS`` (block list) choose
  which entry points load; blocked ones are listed with status ``disabled``;
* ``pm.check_pending()`` runs, so a misspelled hook name is an error of that plugin;
* ``ESPTK_TRACE_HOOKS=1`` logs every hook call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import pluggy

from . import builtin, hookspecs
from .chip import ChipSpec, KnownChip
from .epcache import EntryPoint, entry_points
from .errors import DuplicateName, PluginLoadError, UnsupportedChip, UsageError
from .transport import Transport, url_scheme

#: called before each warning is logged (the CLI configures logging there; None: nothing)
before_warning: Callable[[], None] | None = None


def _warn(msg: str, *args: object) -> None:
    """A warning through logging (imported here: a run that loads no broken plugin never needs it)."""
    import logging

    if before_warning is not None:
        before_warning()
    logging.getLogger(__name__).warning(msg, *args)


GROUPS = {"esptk.chips": "chip", "esptk.transports": "transport"}


@dataclass
class PluginRecord:
    name: str
    kind: str
    distribution: str | None
    version: str | None
    status: str  # ok | error | disabled
    error: str | None = None
    provides: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["provides"] = list(self.provides)
        return d


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {p.strip() for p in raw.replace(";", ",").split(",") if p.strip()}


class Registry:
    """The loaded plugins and what they registered."""

    def __init__(self, pm: pluggy.PluginManager, records: list[PluginRecord]) -> None:
        self.pm = pm
        self.records = records
        self.chips: dict[str, ChipSpec] = {}
        self.known: list[KnownChip] = []
        self.transports: dict[str, type[Transport]] = {}
        #: chip name -> name of the plugin that registered it
        self.owners: dict[str, str] = {}

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def chip_hook(self, chip: ChipSpec) -> ChipHooks:
        """The hooks to call about ``chip``: its owner, plugins that register no chip, and core.

        ``registry.chip_hook(chip).esptk_build_image(chip=chip, ...)`` never reaches a plugin that
        registered only other chips, so chip plugins need no "is this mine?" guard.
        """
        owner = self.owners.get(chip.name)
        others = {p for p in self.owners.values() if p != owner}
        return ChipHooks(self.pm, others)

    def chip(self, name: str) -> ChipSpec:
        key = name.lower().replace("-", "").replace("_", "")
        for cname, spec in self.chips.items():
            if cname.replace("-", "").replace("_", "") == key:
                return spec
        for rec in self.records:
            if rec.name == key and rec.status == "error":
                raise PluginLoadError(f"the plugin for chip '{name}' failed to load: {rec.error}")
        have = ", ".join(sorted(self.chips)) or "none"
        raise UnsupportedChip(
            f"no plugin for chip '{name}' is installed (installed chip plugins: {have})",
            hint=f"pip install esptk-{key}" if not self.chips else None,
        )

    def transport_for(self, url: str) -> type[Transport]:
        scheme = url_scheme(url)
        cls = self.transports.get(scheme)
        if cls is None:
            have = ", ".join(sorted(self.transports)) or "none"
            raise UsageError(
                f"no transport handles '{scheme}://' (installed: {have})",
                hint="use a serial device path, socket://HOST:PORT, rfc2217://HOST:PORT or sim://CHIP",
            )
        return cls

    def name_magic(self, value: int) -> str | None:
        for k in self.known:
            if value in k.magic_values:
                return k.name
        return None


class ChipHooks:
    """Attribute access gives a hook caller that skips the plugins in ``skip`` (by name)."""

    def __init__(self, pm: pluggy.PluginManager, skip: set[str]) -> None:
        self._pm = pm
        self._skip = [p for p in (pm.get_plugin(n) for n in sorted(skip)) if p is not None]

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("esptk_"):
            raise AttributeError(name)
        if not self._skip:
            return getattr(self._pm.hook, name)
        return self._pm.subset_hook_caller(name, remove_plugins=self._skip)


def _register_results(reg: Registry) -> None:
    """Call each plugin's registration hooks on their own, so one failure marks one plugin."""
    by_name = {r.name: r for r in reg.records}
    hooks = ("esptk_register_chips", "esptk_known_chips", "esptk_register_transports")
    for hookname in hooks:
        for impl in reversed(getattr(reg.hook, hookname).get_hookimpls()):
            rec = by_name.get(impl.plugin_name)
            try:
                items = list(impl.function() or ())
                for item in items:
                    if hookname == "esptk_register_chips":
                        if item.name in reg.chips:
                            raise DuplicateName(f"two plugins register the chip '{item.name}'")
                        reg.chips[item.name] = item
                        reg.owners[item.name] = impl.plugin_name
                        provided: tuple[str, ...] = (item.name,)
                    elif hookname == "esptk_register_transports":
                        for scheme in item.SCHEMES:
                            if scheme in reg.transports:
                                raise DuplicateName(f"two plugins register the transport scheme '{scheme}'")
                            reg.transports[scheme] = item
                        provided = tuple(item.SCHEMES)
                    else:
                        reg.known.append(item)
                        provided = ()
                    if rec is not None:
                        rec.provides += provided
            except Exception as e:  # noqa: BLE001 - isolate the faulty plugin
                if rec is None:
                    raise
                rec.status, rec.error = "error", f"{type(e).__name__}: {e}"
                _warn("plugin %s failed to register: %s", rec.name, rec.error)
                reg.pm.unregister(name=rec.name)


def _entry_points() -> Iterable[tuple[str, EntryPoint]]:
    eps = entry_points(tuple(GROUPS))
    seen: set[str] = set()
    for group in GROUPS:
        for ep in sorted((e for e in eps if e.group == group), key=lambda e: e.name):
            if ep.name in seen:  # the same dist found twice on sys.path
                continue
            seen.add(ep.name)
            yield group, ep


def make_plugin_manager(
    entrypoints: bool = True, extra: Iterable[object] = (), allow: set[str] | None = None,
    block: set[str] | None = None,
) -> Registry:
    """Build a plugin manager with core's built-ins, the installed plugins and ``extra`` modules."""
    pm = pluggy.PluginManager("esptk")
    pm.add_hookspecs(hookspecs)
    pm.register(builtin, name="esptk.builtin")
    if os.environ.get("ESPTK_TRACE_HOOKS"):
        pm.trace.root.setwriter(lambda msg: _warn("hook: %s", msg.rstrip()))
        pm.enable_tracing()
    allow = allow if allow is not None else _env_list("ESPTK_PLUGINS")
    block = block if block is not None else (_env_list("ESPTK_DISABLE_PLUGINS") or set())
    records: list[PluginRecord] = []
    if entrypoints:
        for group, ep in _entry_points():
            rec = PluginRecord(name=ep.name, kind=GROUPS[group], distribution=ep.distribution, version=ep.version,
                               status="ok")
            records.append(rec)
            if ep.name in block or (allow is not None and ep.name not in allow):
                rec.status = "disabled"
                pm.set_blocked(ep.name)
                continue
            try:
                module = ep.load()
                pm.register(module, name=ep.name)
                pm.check_pending()
            except Exception as e:  # noqa: BLE001 - one broken plugin must not stop the host
                rec.status, rec.error = "error", f"{type(e).__name__}: {e}"
                _warn("plugin %s failed to load: %s", ep.name, rec.error)
                if pm.is_registered(pm.get_plugin(ep.name)):
                    pm.unregister(name=ep.name)
    for i, module in enumerate(extra):
        pm.register(module, name=getattr(module, "__name__", f"extra{i}"))
    pm.check_pending()
    reg = Registry(pm, records)
    _register_results(reg)
    return reg
