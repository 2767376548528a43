"""The entry-point cache: the same plugins as a scan, read again only when the environment changes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from esptk import epcache

GROUPS = ("esptk.chips", "esptk.transports")


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ESPTK_NO_EP_CACHE", raising=False)
    count: list[int] = []
    real = epcache._scan

    def counting(groups: tuple[str, ...]) -> list[epcache.EntryPoint]:
        count.append(1)
        return real(groups)

    monkeypatch.setattr(epcache, "_scan", counting)
    return count


def test_cached_entry_points_equal_a_scan(scans: list[int]) -> None:
    first = epcache.entry_points(GROUPS)
    again = epcache.entry_points(GROUPS)
    assert again == first and len(scans) == 1
    assert {e.name for e in first if e.group == "esptk.chips"} >= {"esp32", "esp8266"}


def test_files_written_in_the_working_folder_keep_the_cache(scans: list[int], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "build"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", [str(work), *sys.path])
    epcache.entry_points(GROUPS)
    (work / "app.bin").write_bytes(b"\0" * 16)  # a build writes its output here
    epcache.entry_points(GROUPS)
    assert len(scans) == 1


def test_a_changed_site_folder_reads_entry_points_again(scans: list[int], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    epcache.entry_points(GROUPS)
    (site / "newplugin-1.0.dist-info").mkdir()  # a distribution installed there
    epcache.entry_points(GROUPS)
    assert len(scans) == 2
