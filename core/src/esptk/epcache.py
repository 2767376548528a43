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
from pathlib import Path


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


def cache_folder() -> Path:
    """The per-user cache folder of esptk (files in it are named per environment, see :func:`tag`)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "esptk"


def tag() -> str:
    """A short name for this environment (``sys.prefix``)."""
    return f"{zlib.crc32(sys.prefix.encode()):08x}"


def _cache_file() -> Path:
    return cache_folder() / f"entry-points-{tag()}.json"


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
    path = _cache_file()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return [EntryPoint(**e) for e in cached["entry_points"]]
    except (OSError, ValueError, TypeError, KeyError):
        pass
    found = _scan(groups)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "entry_points": [e.__dict__ for e in found]}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: no cache, same result
    return found
