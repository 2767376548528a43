"""Chip-bound hooks are called only through ``registry.chip_hook(chip)``.

A call through ``registry.hook`` reaches every plugin, and chip plugins no longer check whether a
chip is theirs: the first plugin to answer would win, whatever the chip (a merged call site once
uploaded the ESP8266 stub to an ESP32 this way).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from esptk import hookspecs

ROOT = Path(__file__).resolve().parents[2]


def chip_bound() -> set[str]:
    names = set()
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        opts = getattr(fn, "esptk_spec", {}) or {}
        params = inspect.signature(fn).parameters
        if name.startswith("esptk_") and opts.get("firstresult") and "chip" in params:
            names.add(name)
    return names


def test_the_chip_bound_hooks_are_known() -> None:
    assert {"esptk_select_stub", "esptk_flash_protocol", "esptk_build_image", "esptk_read_image",
            "esptk_sim_chip"} <= chip_bound()


def test_no_chip_bound_hook_is_called_through_registry_hook() -> None:
    bound = chip_bound()
    offenders = []
    for folder in ("core", "plugins", "tests", "bench", "stubs"):
        for path in (ROOT / folder).rglob("*.py"):
            if ".venv" in path.parts or "build" in path.parts:
                continue
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and node.attr in bound
                        and isinstance(node.value, ast.Attribute) and node.value.attr == "hook"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .hook.{node.attr}")
    assert not offenders, "use registry.chip_hook(chip) for: " + ", ".join(offenders)
