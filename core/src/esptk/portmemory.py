"""The port a person chose for a project, remembered by its USB identity.

The choice lives in ``.esptk/port`` (JSON) in the project folder: the nearest folder up from the
current one that holds ``.git``, ``esptk.cfg``, ``esptool.cfg``, ``pyproject.toml`` or
``platformio.ini``; without one, the current folder. A port with a USB identity (VID, PID, serial
number) is found again under another device name (``/dev/ttyUSB0`` that came back as
``/dev/ttyUSB1``); a port without one only by its device name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .ports import PortInfo

MARKERS = (".git", "esptk.cfg", "esptool.cfg", "pyproject.toml", "platformio.ini")
FILE = Path(".esptk") / "port"


def project_dir(start: Path | None = None) -> Path:
    """The folder whose ``.esptk/port`` holds the choice (see the module's text for the rule)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / m).exists() for m in MARKERS):
            return folder
    return here


def memory_file(start: Path | None = None) -> Path:
    return project_dir(start) / FILE


def identity(port: PortInfo) -> dict[str, object]:
    return {"device": port.device, "vid": port.vid, "pid": port.pid, "serial_number": port.serial_number}


def remember(port: PortInfo, start: Path | None = None) -> Path:
    """Store ``port`` as the project's choice; returns the file written."""
    path = memory_file(start)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(identity(port), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def recall(start: Path | None = None) -> dict[str, object] | None:
    """The stored choice, or None (no file, or one that is not ours to read)."""
    try:
        data = json.loads(memory_file(start).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("device"), str) else None


def find(saved: dict[str, object], ports: list[PortInfo]) -> PortInfo | None:
    """The port among ``ports`` that is the one ``saved`` describes, or None.

    With a VID/PID, the same VID/PID and serial number must match; when several do (boards without
    serial numbers), the one with the saved device name wins, else there is no answer.
    """
    if saved.get("vid") is None:
        return next((p for p in ports if p.device == saved["device"]), None)
    same = [p for p in ports if (p.vid, p.pid, p.serial_number) ==
            (saved.get("vid"), saved.get("pid"), saved.get("serial_number"))]
    if len(same) == 1:
        return same[0]
    return next((p for p in same if p.device == saved["device"]), None)
