"""What may import what (CONTRIBUTING.md, "Dependency rules"), checked on the source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from ..conftest import ROOT

CORE = ROOT / "core" / "src" / "esptk"
PLUGINS = {p.name: p for p in (ROOT / "plugins").glob("**/src/esptk_*")}


def imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def top(name: str) -> str:
    return name.split(".")[0]


def test_core_never_imports_a_plugin() -> None:
    bad = [(p.relative_to(ROOT), m) for p in CORE.rglob("*.py") for m in imports(p) if top(m).startswith("esptk_")]
    assert not bad


def test_only_the_cli_renders_and_only_the_image_package_reads_elf() -> None:
    for p in CORE.rglob("*.py"):
        rel = p.relative_to(CORE).as_posix()
        for m in imports(p):
            if top(m) in ("typer", "rich", "click"):
                assert rel.startswith("cli/"), f"{rel} imports {m}"
            if top(m) == "elftools":
                assert rel.startswith("image/"), f"{rel} imports {m}"
            assert top(m) != "serial", f"{rel} imports pyserial"


def test_plugins_use_only_esptk_public_surface_and_never_each_other() -> None:
    assert {"esptk_esp8266", "esptk_esp32", "esptk_serial", "esptk_sim"} <= set(PLUGINS)
    for name, pkg in PLUGINS.items():
        for p in pkg.rglob("*.py"):
            for m in imports(p):
                parts = m.split(".")
                if parts[0].startswith("esptk_"):
                    assert parts[0] == name, f"{p.relative_to(ROOT)} imports another plugin: {m}"
                if parts[0] == "esptk":
                    assert not any(x.startswith("_") for x in parts[1:]), f"{p} imports private {m}"
                    assert "cli" not in parts[1:2], f"{p.relative_to(ROOT)} imports the CLI: {m}"
                if parts[0] in ("typer", "rich"):
                    assert p.stem in ("cli", "commands"), f"{p.relative_to(ROOT)} renders: {m}"
                if parts[0] == "serial":
                    assert name == "esptk_serial", f"{p.relative_to(ROOT)} imports pyserial"
