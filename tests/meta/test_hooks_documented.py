"""Docs and tests cannot drift from the hook specifications."""

from __future__ import annotations

import inspect
import re

import pytest

from esptk import hookspecs

from ..conftest import ROOT

SPECS = sorted(n for n, f in vars(hookspecs).items() if n.startswith("esptk_") and callable(f))


def test_there_are_hooks() -> None:
    assert len(SPECS) >= 8


@pytest.mark.parametrize("name", SPECS)
def test_hook_is_documented(name: str) -> None:
    fn = getattr(hookspecs, name)
    assert (fn.__doc__ or "").strip(), f"{name} has no docstring"
    args = ", ".join(inspect.signature(fn).parameters)
    manual = (ROOT / "docs" / "hooks.md").read_text()
    assert f"{name}({args})" in manual, f"docs/hooks.md lacks the signature {name}({args})"


@pytest.mark.parametrize("name", SPECS)
def test_hook_has_a_test(name: str) -> None:
    pattern = re.compile(rf"def test_hook_{name}\b")
    found = [p for p in (ROOT / "tests").rglob("test_*.py") if pattern.search(p.read_text(errors="replace"))]
    assert found, f"no test named test_hook_{name} exists"
