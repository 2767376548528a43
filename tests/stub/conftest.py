from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from esptk.plugins import Registry, make_plugin_manager

from .e2e import FLAVOURS, stub_session
from .harness import UnitHarness
from .qemu import build_test_programs, missing_tools
from .timed import ICOUNT, Stub

MISSING = missing_tools()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if "tests/stub" in str(item.fspath).replace("\\", "/") and getattr(module, "NEEDS_TOOLS", True):
            item.add_marker(pytest.mark.qemu)
            if MISSING:
                item.add_marker(pytest.mark.skip(reason=f"stub tests need the Xtensa tools: {MISSING}"))


@pytest.fixture(scope="session")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_test_programs(tmp_path_factory.mktemp("stubs"))


@pytest.fixture(scope="session")
def unit(programs: dict[str, Path]) -> Iterator[UnitHarness]:
    h = UnitHarness(programs["sim-unit"])
    yield h
    assert h.close() == 0


@pytest.fixture(scope="session")
def reg() -> Registry:
    return make_plugin_manager()


@pytest.fixture(params=sorted(FLAVOURS))
def flavour(request: pytest.FixtureRequest) -> str:
    """Each stub test build: the ESP8266 flavour and the ESP32 flavour."""
    return str(request.param)


@pytest.fixture
def stub(reg: Registry, programs: dict[str, Path], flavour: str) -> Iterator[Stub]:
    """The stub's QEMU test build with instruction-counted time (tests/stub/timed.py)."""
    elf = programs[FLAVOURS[flavour][0]]
    with stub_session(reg, elf, FLAVOURS[flavour][1], icount=ICOUNT) as (s, _t):
        yield Stub(s.loader, elf)
