"""Progress as a user sees it: the library reports stages and compressed bytes through the sink, the
terminal bar shows the moving address, the percentage, both byte counts and the stage of each region;
sinks written for the five original methods keep working."""

from __future__ import annotations

import io
import os
import pty
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from esptk.cli.console import RichProgress
from esptk.flasher import Region, erase_region, read_flash, verify_flash, write_flash
from esptk.plugins import make_plugin_manager
from esptk.progress import RecordingProgress
from esptk.session import Session, connect

from ..conftest import read_pty_to_end

ADDR = 0x12000


def data(size: int, seed: int = 1) -> bytes:
    """Compressible but not trivially so (as firmware is)."""
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(16)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.6 else rnd.randbytes(4) for _ in range(size // 4))


def session(chip: str, stub: bool, progress: object, tmp_path: Path) -> Session:
    return connect(make_plugin_manager(), port=f"sim://{chip}?flash_file={tmp_path / 'flash.bin'}",
                   use_stub=stub, progress=progress)  # type: ignore[arg-type]


def frames(text: str) -> list[str]:
    """The distinct lines a live display drew, in order (cursor moves and repeats dropped)."""
    out: list[str] = []
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours
    for part in re.split(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n", text):
        part = part.strip()
        if part and (not out or out[-1] != part):
            out.append(part)
    return out


def first(lines: list[str], pattern: str) -> int:
    return next(i for i, x in enumerate(lines) if re.search(pattern, x))


@pytest.mark.parametrize("stub", [False, True], ids=["rom", "stub"])
def test_terminal_bar_moves_counts_compressed_bytes_and_names_the_stages(tmp_path: Path, stub: bool) -> None:
    buf = io.StringIO()
    bar = RichProgress(console=Console(file=buf, force_terminal=True, width=150, color_system=None), min_refresh=0)
    payload = data(160_000)
    s = session("esp32", stub, bar, tmp_path)
    try:
        (res,) = write_flash(s, [Region(ADDR, payload)])
    finally:
        s.close("no_reset")
    lines = frames(buf.getvalue())
    writing = [x for x in lines if x.startswith("Writing at 0x")]
    addresses = [int(x.split()[2], 16) for x in writing]
    assert len(set(addresses)) >= 3, writing  # the address moves with the data, not frozen at the start
    assert addresses == sorted(addresses) and addresses[0] == ADDR and addresses[-1] == ADDR + len(payload)
    counts = [re.search(r"(\d+)% +(\d+)/(\d+) B \((\d+) compressed\)", x) for x in writing]
    shown = [tuple(int(g) for g in m.groups()) for m in counts if m]
    assert shown, writing
    middle = [c for c in shown if 0 < c[1] < c[2]]
    assert middle and all(c[2] == len(payload) and 0 < c[3] < c[1] for c in middle)
    assert all(abs(pct - 100 * done // total) <= 1 for pct, done, total, _ in shown)
    assert shown[-1][1:] == (len(payload), len(payload), res.compressed)
    verify = first(lines, r"^Verifying at 0x00012000 .*100%")
    assert first(lines, r"^Writing at 0x000(?!12000)") < verify  # written, then verified
    if stub:  # the stub erases as it writes: no stage of its own
        assert not any(x.startswith("Erasing at") for x in lines)
    else:  # the ROM erases the whole region when the write begins
        assert first(lines, r"^Erasing at 0x00012000") < first(lines, r"^Writing at 0x000(?!12000)")


def test_library_reports_erase_write_verify_in_order_with_compressed_bytes(tmp_path: Path) -> None:
    rec = RecordingProgress()
    s = session("esp32", False, rec, tmp_path)  # the ESP32 ROM: MD5, compression, erase on begin
    try:
        results = write_flash(s, [Region(0x10000, data(20_000, 2)), Region(0x20000, data(9_000, 3))])
    finally:
        s.close("no_reset")
    assert rec.stages() == ["compare", "erase", "write", "verify"] * 2
    packed = [v for k, v in rec.events if k == "compressed"]
    assert packed and all(isinstance(v, int) for v in packed)
    # each region's compressed count grows to the size the summary gives
    ends = [packed[i] for i in range(len(packed)) if i + 1 == len(packed) or packed[i + 1] < packed[i]]
    assert ends == [r.compressed for r in results]


def test_erase_all_is_its_own_stage_before_the_writes(tmp_path: Path) -> None:
    rec = RecordingProgress()
    s = session("esp32", True, rec, tmp_path)
    try:
        write_flash(s, [Region(0x10000, data(8192, 4))], erase_all=True)
    finally:
        s.close("no_reset")
    assert rec.stages() == ["erase", "write", "verify"]


def test_a_loader_that_cannot_verify_reports_no_verify_stage(tmp_path: Path) -> None:
    rec = RecordingProgress()
    s = session("esp8266", False, rec, tmp_path)  # the ESP8266 ROM: no MD5, no reads, no compression
    try:
        (res,) = write_flash(s, [Region(0x20000, data(6000, 5))])
    finally:
        s.close("no_reset")
    assert not res.verified
    assert rec.stages() == ["erase", "write"]
    assert not any(k == "compressed" for k, _ in rec.events)


def test_read_verify_and_erase_region_stages(tmp_path: Path) -> None:
    rec = RecordingProgress()
    s = session("esp32", True, rec, tmp_path)
    payload = data(8192, 6)
    try:
        write_flash(s, [Region(0x30000, payload)])
        rec.events.clear()
        assert read_flash(s, 0x30000, len(payload)) == payload
        assert rec.stages() == ["read", "verify"]
        rec.events.clear()
        assert verify_flash(s, [Region(0x30000, payload)])[0]["ok"]
        assert rec.stages() == ["verify"] and ("start", ("Verifying at 0x00030000", len(payload))) in rec.events
        rec.events.clear()
        assert erase_region(s, 0x30000, 0x2000)
        assert rec.stages() == ["erase", "verify"]
    finally:
        s.close("no_reset")


class FiveMethodSink:
    """A sink written before stages and compressed counts existed."""

    def __init__(self) -> None:
        self.done: list[int] = []
        self.tasks: list[str] = []

    def start(self, task: str, total: int) -> None:
        self.tasks.append(task)

    def advance(self, done: int) -> None:
        self.done.append(done)

    def finish(self, summary: str | None = None) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


def test_a_sink_with_the_five_original_methods_keeps_working(tmp_path: Path) -> None:
    old = FiveMethodSink()
    s = session("esp32", True, old, tmp_path)
    payload = data(30_000, 7)
    try:
        (res,) = write_flash(s, [Region(0x40000, payload)])
        assert read_flash(s, 0x40000, 100) == payload[:100]
    finally:
        s.close("no_reset")
    assert res.verified and res.compressed
    assert old.tasks[0] == "Writing at 0x00040000" and len(payload) in old.done
    from esptk.progress import staged

    assert staged(RecordingProgress()).__class__ is RecordingProgress  # a full sink is used as it is


def _run_in_pty(args: list[str], tmp_path: Path) -> str:
    """esptk with stdout and stderr on a terminal (COLUMNS wide enough for the whole bar)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "esptk", *args], stdin=slave, stdout=slave, stderr=slave,
                         env={**os.environ, "COLUMNS": "150", "TERM": "xterm"}, cwd=tmp_path)
    os.close(slave)
    seen = read_pty_to_end(master, p)
    assert p.wait(30) == 0, seen.decode(errors="replace")[-2000:]
    os.close(master)
    return seen.decode(errors="replace")


def test_the_cli_draws_the_bar_on_a_terminal_and_not_beside_esptool_lines(tmp_path: Path) -> None:
    image = tmp_path / "app.bin"
    image.write_bytes(data(200_000, 8))
    port = f"sim://esp32?timing=1&flash_file={tmp_path / 'flash.bin'}"
    lines = frames(_run_in_pty(["-p", port, "-b", "921600", "write-flash", "0x10000", str(image)], tmp_path))
    writing = [x for x in lines if re.match(r"Writing at 0x[0-9a-f]{8} .*% +\d+/200000 B \(\d+ compressed\)", x)]
    assert len({x.split()[2] for x in writing}) >= 2, lines  # the address moves on the terminal
    assert any(x.startswith("Verifying at 0x00010000") for x in lines), lines
    # asked for esptool's lines on a terminal: those, and no bar drawn over them
    out = _run_in_pty(["-p", port, "-b", "921600", "--log-format", "esptool", "write-flash", "--no-skip", "0x10000",
                       str(image)], tmp_path)
    assert "Hash of data verified." in out and re.search(r"Writing at 0x[0-9a-f]{8} \[", out)
    assert " B (" not in out and "━" not in out
