"""Entry points of esptk's plugin groups, read once per environment and cached.

Reading entry points scans every installed distribution (``importlib.metadata`` alone costs ~40 ms
to import). The result is cached in the user's cache folder under a key made of the interpreter, the
``sys.path`` folders and their modification times (the working folder left out): installing or
removing a distribution changes the folder it goes into, which invalidates the cache.
``ESPTK_NO_EP_CACHE=1`` bypasses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
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


def _fingerprint() -> str:
    parts = [sys.executable, sys.version]
    # the working folder (sys.path[0] under ``python -m``) changes with every file a build writes
    # there; distributions are not installed into it
    cwd = os.getcwd()
    for entry in sys.path:
        if entry in ("", ".", cwd):
            continue
        try:
            parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}:-")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    tag = hashlib.sha256(sys.prefix.encode()).hexdigest()[:16]
    return Path(base) / "esptk" / f"entry-points-{tag}.json"


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
    key = _fingerprint() + ":" + ",".join(groups)
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
