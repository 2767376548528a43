"""The start-up fast path (esptk.cli.fast) behaves as typer does: the same values reach the same
functions, everything else goes to typer, the cached help is typer's help, and a cached run of an
image command writes the same bytes and lines as a typer run without importing typer."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..image.elfwriter import make_elf

pytest.importorskip("esptk_esp32")


def _spec() -> dict[str, Any]:
    import typer

    from esptk.cli import fastcache
    from esptk.cli.app import app

    spec = fastcache.build_spec(app, typer.main.get_command(app))
    assert spec is not None
    return spec


def _typer_values(argv: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keyword arguments typer passes to the root callback and to the command."""
    import typer

    from esptk.cli.app import app

    seen: dict[str, dict[str, Any]] = {}

    def recorder(key: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def rec(**kwargs: Any) -> None:
            seen[key] = {k: v for k, v in kwargs.items() if k != "ctx"}

        return rec

    root_info = app.registered_callback
    assert root_info is not None
    name = next(a for a in argv if a.replace("_", "-") in ("elf2image", "merge-bin", "make-image", "image-info"))
    cmd_info = next(c for c in app.registered_commands if c.name == name.replace("_", "-"))
    saved = root_info.callback, cmd_info.callback
    root_info.callback, cmd_info.callback = recorder("root", saved[0]), recorder("cmd", saved[1])
    try:
        typer.main.get_command(app).main(args=argv, prog_name="esptk", standalone_mode=False)
    finally:
        root_info.callback, cmd_info.callback = saved
    return seen["root"], seen["cmd"]


def _typed(values: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    return {k: (type(v).__name__, v) for k, v in values.items()}  # True is not 1, [] is not None


ACCEPTED = [
    ["--chip", "esp32", "elf2image", "-o", "x.bin", "app.elf"],
    ["-c", "esp32", "elf2image", "app.elf", "--output=x.bin", "--version", "2", "--secure-pad", "-fm", "dio"],
    ["--chip=esp8266", "-q", "--baud", "921600", "--before", "No-Reset", "elf2image",
     "--flash-freq", "80m", "--min-rev-full", "+3", "app.elf"],
    ["--chip", "esp32", "--json", "merge-bin", "-o", "m.bin", "0x1000", "a.bin", "0x10000", "b.bin"],
    ["--chip", "esp32", "merge_bin", "--format", "hex", "--chunk-size", "100", "-o", "m.hex", "0", "a"],
    ["--port-filter", "vid=1", "--port-filter", "pid=2", "--chip", "esp32", "image-info", "f.bin"],
    ["make-image", "out.bin", "-f", "a.bin", "-a", "0x40100000", "-f", "b.bin", "-a", "0x3ffe8000"],
]


@pytest.mark.parametrize("argv", ACCEPTED)
def test_fast_parse_gives_the_values_typer_gives(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from esptk.cli import fast

    monkeypatch.setenv("ESPTOOL_FF", "20m")
    monkeypatch.setenv("ESPTK_FF", "")  # empty: the next variable counts, as click reads them
    monkeypatch.setenv("ESPTOOL_CONNECT_ATTEMPTS", "3")
    root, sources, name, values = fast.parse(_spec(), argv)
    typed_root, typed_values = _typer_values(argv)
    assert _typed(root) == _typed(typed_root) and _typed(values) == _typed(typed_values)
    assert sources["connect_attempts"] == "ENVIRONMENT" and sources["chip"] in ("COMMANDLINE", "DEFAULT")


REFUSED = [
    ["--version"], ["--chip", "esp32", "elf2image", "--help"], ["-c", "esp32", "elf2image", "-h", "a.elf"],
    ["-qv", "--chip", "esp32", "elf2image", "a.elf"], ["--chip", "esp32", "elf2image", "--", "a.elf"],
    ["--chip", "esp32", "elf2image", "-o"], ["--chip", "esp32", "elf2image", "-o", "-x", "a.elf"],
    ["--baud", "0x10", "elf2image", "a.elf"], ["--baud", "5", "elf2image", "a.elf"],
    ["--before", "sideways", "elf2image", "a.elf"], ["--chip", "esp32", "elf2image"],
    ["--chip", "esp32", "elf2image", "a.elf", "b.elf"], ["--chip", "esp32", "elf2image", "-o", "a", "-o", "b", "c"],
    ["--chip", "esp32", "write-flash", "0", "a.bin"], ["--nope", "elf2image", "a.elf"],
    ["--chip", "esp32", "elf2image", "--secure-pad=1", "a.elf"], ["-fm=dio", "elf2image", "a.elf"],
    ["--chip", "esp32", "merge-bin", "0", "a.bin"], ["--no-stub", "elf2image", "a.elf"],
]


@pytest.mark.parametrize("argv", REFUSED)
def test_fast_parse_leaves_the_rest_to_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from esptk.cli import fast

    spec = _spec()
    if argv == ["--no-stub", "elf2image", "a.elf"]:
        monkeypatch.setenv("ESPTK_DEBUG", "1")  # a flag from the environment: typer's to read
        argv = ["elf2image", "a.elf"]
    with pytest.raises(fast.NotFast):
        fast.parse(spec, argv)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "90", **extra}


def _run(args: list[str], env: dict[str, str], cwd: Path, probe: bool = False) -> subprocess.CompletedProcess[str]:
    code = ("import sys; from esptk.cli import main; rc = main(sys.argv[1:]); "
            "sys.stderr.write('typer imported\\n' if 'typer' in sys.modules else ''); sys.exit(rc)")
    cmd = [sys.executable, "-c", code, *args] if probe else [sys.executable, "-m", "esptk", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_cached_help_is_typers_help(tmp_path: Path) -> None:
    env = _env(tmp_path)
    live = _run(["--help"], {**env, "ESPTK_NO_FAST": "1"}, tmp_path)
    first = _run(["--help"], env, tmp_path, probe=True)
    second = _run(["--help"], env, tmp_path, probe=True)
    assert live.returncode == first.returncode == second.returncode == 0
    assert "elf2image" in live.stdout and live.stdout == first.stdout == second.stdout
    assert first.stderr == second.stderr == ""  # the typer run (live) filled the cache: no typer since
    narrow = _run(["--help"], {**env, "COLUMNS": "60"}, tmp_path, probe=True)
    assert narrow.stdout == _run(["--help"], {**env, "COLUMNS": "60", "ESPTK_NO_FAST": "1"}, tmp_path).stdout
    assert narrow.stdout != live.stdout and "typer imported" in narrow.stderr  # another width, another entry


@pytest.mark.parametrize("command", ["elf2image", "merge-bin", "bad-merge", "bad-elf"])
def test_image_commands_run_without_typer_and_write_the_same(command: str, tmp_path: Path) -> None:
    (tmp_path / "app.elf").write_bytes(make_elf([(".iram0.text", 0x40080000, bytes(range(256)) * 4),
                                                 (".flash.text", 0x400D0020, bytes(range(7, 256)) * 16)]))
    (tmp_path / "a.bin").write_bytes(b"\xaa" * 2000)
    args = {
        "elf2image": ["--chip", "esp32", "elf2image", "-o", "OUT", "app.elf", "--flash-mode", "dio"],
        "merge-bin": ["--chip", "esp32", "merge-bin", "-o", "OUT", "0x1000", "a.bin", "0x8000", "a.bin"],
        "bad-merge": ["--chip", "esp32", "merge-bin", "-o", "OUT", "0x1000", "a.bin", "0x1100", "a.bin"],
        "bad-elf": ["--chip", "esp32", "elf2image", "-o", "OUT", "a.bin"],
    }[command]
    env = _env(tmp_path)
    runs = []
    for label, extra in (("slow", {"ESPTK_NO_FAST": "1"}), ("fill", {}), ("fast", {})):
        p = _run([a.replace("OUT", label + ".bin") for a in args], {**env, **extra}, tmp_path, probe=True)
        written = tmp_path / f"{label}.bin"
        runs.append((p.returncode, p.stdout, p.stderr.replace(label, "OUT"),
                     written.read_bytes() if written.exists() else None))
    (rc, out, err, data), _, (rc2, out2, err2, data2) = runs
    assert "typer imported" in err and "typer imported" not in err2
    assert (rc, out, err.replace("typer imported\n", ""), data) == (rc2, out2, err2, data2)
    assert (rc == 0) == (command in ("elf2image", "merge-bin")) and (data is not None) == (rc == 0)


@pytest.mark.parametrize("columns", [None, "", "0", "-5", "abc", "61", "200"])
def test_help_key_width_is_the_width_click_formats_for(columns: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from esptk.cli import fast

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert fast._columns() == shutil.get_terminal_size().columns


def test_temp_file_is_private_and_new(tmp_path: Path) -> None:
    from esptk.fileio import temp_file

    fd, name = temp_file(str(tmp_path), suffix=".tmp")
    fd2, name2 = temp_file(str(tmp_path), suffix=".tmp")
    os.close(fd)
    os.close(fd2)
    assert name != name2 and os.path.dirname(name) == str(tmp_path) and name.endswith(".tmp")
    assert os.path.basename(name).startswith(".esptk-") and (os.stat(name).st_mode & 0o777) == 0o600
    with pytest.raises(FileNotFoundError):
        temp_file(str(tmp_path / "missing"))
