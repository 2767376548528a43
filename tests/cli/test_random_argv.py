"""Random command lines over every command: exit code 0, 1 or 2, and never a traceback or an
"internal error". Runs in this process against the virtual chip (bounded examples, no deadline)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esptk.cli import main

from ..image.elfwriter import make_elf

pytest.importorskip("esptk_sim")
pytest.importorskip("esptk_esp32")

NUMBERS = ["0", "3", "4", "7", "0x1000", "0x10000", "0x3ffb0000", "0x40000000", "0x3ff00000", "-1", "-0x1000",
           "0x100000000", "99999999999999999999", "0xFFFFFFFF", "0xFFFFF000", "1.5", "abc", "ALL", "all", "4MB",
           "-1MB", "1KB", "0x", "", "1_000", "0b101", "0o17", "16MB", "128MB"]
FILES = ["f.bin", "app.elf", "image.bin", "folder", "missing.bin", "", "nodir/", "nodir/x.bin", "out.bin", "fifo",
         "f.bin/x", "/dev/zero"]
WORDS = ["keep", "detect", "dio", "qio", "40m", "80m", "raw", "hex", "uf2", "--", "-h", "esp32", "esp8266", "x"]
PORTS = ["sim://esp32", "sim://esp8266", "sim://esp32?flash_size=2MB", "sim://esp8266?flash_size=1MB",
         "/dev/esptk-no-such-port", "sim://esp99"]
GLOBALS = [["--chip", "esp32"], ["--chip", "esp8266"], ["--chip", "nochip"], ["--no-stub"], ["--json"], ["-q"],
           ["--before", "no_reset"], ["--before", "sideways"], ["--after", "no_reset"], ["--after", "soft_reset"],
           ["--connect-attempts", "1"]]
#: "sim serve" runs until interrupted and so does "flash-many --watch": both are tested on their own
SKIP = {"sim", "--watch"}


def _commands() -> dict[str, list[str]]:
    """Every command and sub-command (plugins' included), with its option names."""
    import typer

    from esptk.cli.app import app

    group = typer.main.get_command(app)
    ctx = group.make_context("esptk", ["version"], resilient_parsing=True)
    out: dict[str, list[str]] = {}

    def walk(prefix: str, cmd: object) -> None:
        subs = getattr(cmd, "commands", None)
        if subs is not None and prefix:
            for name in cmd.list_commands(ctx):  # type: ignore[attr-defined]
                walk(f"{prefix} {name}", cmd.get_command(ctx, name))  # type: ignore[attr-defined]
        opts = [o for p in cmd.params for o in p.opts  # type: ignore[attr-defined]
                if o.startswith("-") and o not in ("-h", "--help") and o not in SKIP]
        out[prefix] = opts

    for name in group.list_commands(ctx):  # type: ignore[attr-defined]
        if name not in SKIP:
            walk(name, group.get_command(ctx, name))  # type: ignore[attr-defined]
    return out


COMMANDS = _commands()


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    args = ["--port", draw(st.sampled_from(PORTS))]
    for g in draw(st.lists(st.sampled_from(GLOBALS), max_size=3)):
        args += g
    if draw(st.booleans()):
        args += ["-b", draw(st.sampled_from(["115200", "460800", "0", "-1", "99999999999", "abc"]))]
    name = draw(st.sampled_from(sorted(COMMANDS)))
    args += name.split()
    pools = [NUMBERS, FILES, WORDS, COMMANDS[name] or WORDS]
    for _ in range(draw(st.integers(0, 6))):
        args.append(draw(st.sampled_from(draw(st.sampled_from(pools)))))
    return args


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def fail(_sig: int, _frame: object) -> None:
        raise TimeoutError(f"command still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    d = tmp_path_factory.mktemp("argv")
    (d / "folder").mkdir()
    (d / "f.bin").write_bytes(os.urandom(100))
    (d / "app.elf").write_bytes(make_elf([(".data", 0x3FFB0000, os.urandom(64)), (".text", 0x40080000, b"\x01" * 32)]))
    os.mkfifo(d / "fifo")
    cwd = os.getcwd()
    os.chdir(d)
    main(["--chip", "esp32", "elf2image", "-o", "image.bin", "app.elf"])
    yield d
    os.chdir(cwd)


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=argv())
def test_random_command_lines_never_crash(workdir: Path, args: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with _alarm(60), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    text = err.getvalue()
    assert code in (0, 1, 2), (args, code, text)
    assert "Traceback" not in text and "internal error" not in text, (args, text)
