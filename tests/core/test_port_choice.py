"""Several candidate ports: a person at a terminal chooses one, esptk remembers it for the project
(by USB identity, so a renamed port still matches); without a terminal nothing is asked.

The terminal runs are real ``esptk`` processes on a pseudo-terminal; their ports come from a test
plugin answering ``esptk_list_ports`` and are virtual chips (``sim://``) with different MACs.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from esptk.portmemory import MARKERS, find, project_dir, recall, remember
from esptk.ports import PortInfo

from ..conftest import Result

Cli = Callable[..., Result]

RUNNER = '''
import json, os, sys, types
from esptk import hookimpl
from esptk.cli import main
from esptk.cli.state import registry
from esptk.ports import PortInfo

mod = types.ModuleType("testports")

@hookimpl
def esptk_list_ports():
    return [PortInfo(**d) for d in json.loads(os.environ["TEST_PORTS"])]

mod.esptk_list_ports = esptk_list_ports
registry().pm.register(mod)
sys.exit(main(sys.argv[1:]))
'''


def board(mac_end: int, vid: int, pid: int, serial: str | None, where: Path) -> dict[str, object]:
    """A virtual ESP32 whose device name changes with ``where`` (as /dev/ttyUSBn may)."""
    return {"device": f"sim://esp32?mac=24:0a:c4:00:00:{mac_end:02x}&flash_file={where}",
            "vid": vid, "pid": pid, "serial_number": serial, "manufacturer": "test"}


def run_on_pty(cwd: Path, ports: list[dict[str, object]], *args: str,
               answers: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """``esptk ARGS`` with stdin and stderr on a pseudo-terminal; ``answers`` are typed one per
    "Which one?" prompt. Returns exit code, stdout, what the terminal showed."""
    script = cwd / "_runner.py"
    script.write_text(RUNNER)
    master, slave = pty.openpty()
    env = {**os.environ, "TEST_PORTS": json.dumps(ports), "COLUMNS": "200", "ESPTK_DISABLE_PLUGINS": "serial"}
    proc = subprocess.Popen([sys.executable, str(script), *args], stdin=slave, stderr=slave,
                            stdout=subprocess.PIPE, cwd=cwd, env=env)
    os.close(slave)
    shown, typed = b"", 0
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:  # a hang guard, not a timing check
                raise AssertionError(f"esptk waits for nothing: {shown.decode(errors='replace')}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if typed < len(answers) and shown.count(b"Which one?") > typed:
                os.write(master, answers[typed].encode() + b"\n")
                typed += 1
    finally:
        os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    code = proc.wait(timeout=60)
    return code, out, shown.decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project (it has a .git) and a sub-folder of it where esptk runs."""
    (tmp_path / "proj" / ".git").mkdir(parents=True)
    sub = tmp_path / "proj" / "src"
    sub.mkdir()
    return sub


def test_terminal_choice_is_used_and_remembered_by_usb_identity(project: Path) -> None:
    a = board(1, 0x10C4, 0xEA60, "A1", project / "a.bin")
    b = board(2, 0x1A86, 0x55D4, "B2", project / "b.bin")
    code, out, shown = run_on_pty(project, [a, b], "read-mac", answers=("2",))
    assert code == 0, shown
    assert f"1) {a['device']}" in shown and f"2) {b['device']}" in shown and "Which one?" in shown
    assert "CP210x" in shown and "CH9102" in shown
    assert out.strip() == "MAC: 24:0a:c4:00:00:02"
    saved = project.parent / ".esptk" / "port"
    assert saved.is_file() and "Remembered" in shown

    # next time the CH9102 board shows up under another name: no question, the remembered board
    renamed = board(2, 0x1A86, 0x55D4, "B2", project / "b-again.bin")
    code, out, shown = run_on_pty(project, [a, renamed], "read-mac")
    assert code == 0, shown
    assert "Which one?" not in shown
    assert f"Using {renamed['device']}, the port remembered in {saved}" in shown
    assert out.strip() == "MAC: 24:0a:c4:00:00:02"


def test_absent_remembered_port_is_ignored_with_a_note(project: Path) -> None:
    a = board(1, 0x10C4, 0xEA60, "A1", project / "a.bin")
    b = board(2, 0x1A86, 0x55D4, "B2", project / "b.bin")
    c = board(3, 0x0403, 0x6001, "C3", project / "c.bin")
    assert run_on_pty(project, [a, b], "read-mac", answers=("2",))[0] == 0
    code, out, shown = run_on_pty(project, [a, c], "read-mac", answers=("x", "2"))
    assert code == 0, shown
    assert f"The remembered port {b['device']} is not connected" in shown
    assert "'x' is not a number from 1 to 2" in shown and shown.count("Which one?") == 2
    assert out.strip() == "MAC: 24:0a:c4:00:00:03"
    assert recall(project)["serial_number"] == "C3"  # type: ignore[index]


def test_no_answer_is_a_usage_error(project: Path) -> None:
    a = board(1, 0x10C4, 0xEA60, "A1", project / "a.bin")
    b = board(2, 0x1A86, 0x55D4, "B2", project / "b.bin")
    code, out, shown = run_on_pty(project, [a, b], "read-mac", answers=("9", "0", "b"))
    assert code == 2 and "no serial port chosen" in shown and out == ""
    assert recall(project) is None


def test_without_a_terminal_nothing_is_asked(cli: Cli, monkeypatch: pytest.MonkeyPatch, project: Path) -> None:
    """Today's behaviour: every candidate in order, nothing asked, nothing remembered."""
    from esptk.cli import ports

    dead = PortInfo("socket://127.0.0.1:1", 0x10C4, 0xEA60, "A1")
    live = PortInfo(f"sim://esp32?flash_file={project / 'f.bin'}", 0x1A86, 0x7523, "B2")
    monkeypatch.setattr(ports, "all_ports", lambda: [live, dead])
    monkeypatch.chdir(project)
    r = cli("--connect-attempts", "1", "read-mac")
    assert r.code == 0, r.err
    assert "Which one?" not in r.err and "Trying socket://127.0.0.1:1" in r.err
    assert r.out.strip() == "MAC: 24:0a:c4:12:34:56" and recall(project) is None

    # a choice remembered at a terminal also serves runs without one (an IDE, a script)
    remember(live, project)
    r = cli("--connect-attempts", "1", "read-mac")
    assert r.code == 0, r.err
    assert "Trying socket://" not in r.err and f"Using {live.device}, the port remembered" in r.err


def test_project_folder_rule(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (tmp_path / "a" / "platformio.ini").write_text("")
    assert project_dir(deep) == (tmp_path / "a").resolve()
    lone = tmp_path / "lone"
    lone.mkdir()
    if not any((f / m).exists() for f in tmp_path.resolve().parents for m in MARKERS):
        assert project_dir(lone) == lone.resolve()  # no project around: the current folder


def test_boards_without_serial_numbers_are_told_apart_by_device_name() -> None:
    one = PortInfo("/dev/ttyUSB0", 0x1A86, 0x7523)
    two = PortInfo("/dev/ttyUSB1", 0x1A86, 0x7523)
    saved = {"device": "/dev/ttyUSB1", "vid": 0x1A86, "pid": 0x7523, "serial_number": None}
    assert find(saved, [one, two]) == two
    assert find(saved, [one]) == one  # the only such board, renamed
    assert find({**saved, "device": "/dev/ttyUSB7"}, [one, two]) is None  # which one? ask again
    assert find({"device": "/dev/ttyS0", "vid": None}, [PortInfo("/dev/ttyS0")]) == PortInfo("/dev/ttyS0")
