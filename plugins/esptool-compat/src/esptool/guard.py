"""Refuse to run beside the real esptool: both own the ``esptool`` package and its executables."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent


def conflict() -> str | None:
    """Why this package must not run here, or None."""
    try:
        dist = metadata.distribution("esptool")
    except metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        return f"the real esptool {dist.version} is installed in this environment ({sys.prefix})"
    for entry in sys.path:
        candidate = Path(entry or ".") / "esptool" / "__init__.py"
        try:
            if candidate.is_file() and candidate.resolve().parent != HERE:
                return f"another esptool package is importable from {candidate.parent}"
        except OSError:
            continue
    return None


HINT = ("esptk-esptool-compat replaces esptool: install it into an environment without esptool "
        "(pip uninstall esptool esptk-esptool-compat, then pip install esptk-esptool-compat)")
