from __future__ import annotations

from pathlib import Path

import pytest

from esptk.cli.argv import expand_argfiles, normalize_options
from esptk.errors import UsageError


def test_argfile_expands_in_place_with_quotes_and_newlines(tmp_path: Path) -> None:
    f = tmp_path / "flash_args"
    f.write_text('--flash-mode dio --flash-freq 40m\n0x1000 "boot loader.bin"\n0x10000 app.bin\n')
    assert expand_argfiles(["-p", "X", "write-flash", f"@{f}", "--verify"]) == [
        "-p", "X", "write-flash", "--flash-mode", "dio", "--flash-freq", "40m",
        "0x1000", "boot loader.bin", "0x10000", "app.bin", "--verify",
    ]


def test_argfile_may_name_another_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "inner").write_text("b c")
    (tmp_path / "outer").write_text("a @inner d")
    assert expand_argfiles([f"@{tmp_path / 'outer'}"]) == ["a", "b", "c", "d"]


def test_missing_argfile_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read argument file"):
        expand_argfiles([f"@{tmp_path / 'nope'}"])


def test_self_including_argfile_stops(tmp_path: Path) -> None:
    (tmp_path / "loop").write_text("@loop")
    with pytest.raises(UsageError, match="nests too deeply"):
        expand_argfiles([f"@{tmp_path / 'loop'}"])


def test_underscore_options_become_hyphens_but_values_do_not() -> None:
    assert normalize_options(["--flash_mode", "dio", "--flash_size=4MB", "my_file.bin", "--", "--x_y"]) == [
        "--flash-mode", "dio", "--flash-size=4MB", "my_file.bin", "--", "--x_y"]
