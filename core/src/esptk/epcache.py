"""Entry points of esptk's plugin groups, read once per environment and cached.

Reading entry points scans every installed distribution (``importlib.metadata`` alone costs ~40 ms
to import). The result is cached in the user's cache folder under a key made of the interpreter, the
``sys.path`` folders and their modification times: installing or removing a distribution changes
the folder it goes into, which invalidates the cache. The current folder (``python -m esptk`` puts it
on ``sys.path``) counts by the distributions in it, not its time: writing an output file there must
not invalidate the cache. ``ESPTK_NO_EP_CACHE=1`` bypasses it.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EntryPoint:
    group: str
    name: str
    value: str  #: "module" or "module:attr"
    distribution: str | None
    version: str | None

    def load(self) -> object:
        import importlib

        module_name, _, attr = self.value.partition(":")
        obj: object = importlib.import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


DIST_SUFFIXES = (".dist-info", ".egg-info", ".egg-link", ".egg", ".pth")


def fingerprint() -> str:
    """What the installed distributions depend on: interpreter, ``sys.path`` and the folders' times."""
    parts = [sys.executable, sys.version]
    cwd = os.getcwd()
    for entry in sys.path:
        try:
            if entry in ("", cwd):
                names = sorted(n for n in os.listdir(entry or ".") if n.endswith(DIST_SUFFIXES))
                parts.append("<current folder>:" + ",".join(  # one key for all folders without distributions
                    f"{n}@{os.stat(os.path.join(entry or '.', n)).st_mtime_ns}" for n in names))
            else:
                parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}:-")
    return "\n".join(parts)


def cache_folder() -> str:
    """The per-user cache folder of esptk (files in it are named per environment, see :func:`tag`)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "esptk")


def tag() -> str:
    """A short name for this environment (``sys.prefix``)."""
    return f"{zlib.crc32(sys.prefix.encode()):08x}"


KEEP = 8  #: cache files kept per kind and environment (the newest)


def cache_path(kind: str, key: str) -> str:
    """One file per kind, environment and key (``python -m esptk`` and the ``esptk`` script, or two
    interpreters of one environment, see different keys and must not evict each other)."""
    return os.path.join(cache_folder(), f"{kind}-{tag()}-{zlib.crc32(key.encode()):08x}.json")


def read(kind: str, key: str) -> dict[str, Any] | None:
    """The object stored under ``key`` (None: none, or unreadable)."""
    try:
        with open(cache_path(kind, key), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) and data.get("key") == key else None
    except (OSError, ValueError):
        return None


def write(kind: str, data: dict[str, Any]) -> None:
    """Store ``data`` (with its ``key``) atomically; keep the :data:`KEEP` newest files of ``kind``."""
    path = cache_path(kind, data["key"])
    folder, name = os.path.split(path)
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
        prefix = name.rsplit("-", 1)[0] + "-"
        old = sorted((e for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".json")),
                     key=lambda e: e.stat().st_mtime_ns, reverse=True)
        for entry in old[KEEP:]:
            os.unlink(entry.path)
    except OSError:
        pass  # a read-only home: no cache, same result


def _scan(groups: tuple[str, ...]) -> list[EntryPoint]:
    from importlib import metadata

    eps = metadata.entry_points()
    out = []
    for group in groups:
        for ep in eps.select(group=group):
            dist = ep.dist
            out.append(EntryPoint(group, ep.name, ep.value, dist.metadata["Name"] if dist else None,
                                  dist.version if dist else None))
    return out


def entry_points(groups: tuple[str, ...]) -> list[EntryPoint]:
    """The entry points of ``groups`` (from the cache when this environment has not changed)."""
    if os.environ.get("ESPTK_NO_EP_CACHE"):
        return _scan(groups)
    key = fingerprint() + ":" + ",".join(groups)
    cached = read("entry-points", key)
    if cached is not None:
        try:
            return [EntryPoint(**e) for e in cached["entry_points"]]
        except (TypeError, KeyError):
            pass
    found = _scan(groups)
    write("entry-points", {"key": key, "entry_points": [e.__dict__ for e in found]})
    return found
