"""Rendering: rich on stderr for people, plain text/JSON on stdout for data."""

from __future__ import annotations

import json
import re
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    err: Console

_ERR: Console | None = None


def __getattr__(name: str) -> Any:
    """``err``, rich's console on stderr, is built on first use (rich costs ~40 ms to import)."""
    global _ERR
    if name == "err":
        if _ERR is None:
            from rich.console import Console

            _ERR = Console(stderr=True, highlight=False, soft_wrap=True)
        return _ERR
    raise AttributeError(name)


def _plain() -> bool:
    """No terminal on stderr: write plain lines without loading rich."""
    try:
        return not sys.stderr.isatty()
    except (AttributeError, ValueError):
        return True

JSON_SCHEMA = {"major": 1, "minor": 0}

_bars: list[RichProgress] = []  #: progress displays drawing now (ended on Ctrl-C)


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


#: whether this run printed its JSON object already (an error after it adds no second object)
printed_json = False


def out_json(obj: dict[str, Any]) -> None:
    global printed_json
    printed_json = True
    out(json.dumps({"schema": JSON_SCHEMA, **obj}, indent=2, sort_keys=False))


def info(msg: str) -> None:
    if _plain():
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()
    else:
        __getattr__("err").print(msg, markup=False, emoji=False)  # "aa:cd:ef" is a MAC, not an emoji


def warn(msg: str) -> None:
    if _plain():
        info(f"warning: {msg}")
    else:
        __getattr__("err").print(f"[yellow]warning:[/] {escape(msg)}")


def escape(text: str) -> str:
    from rich.markup import escape as _e

    return _e(text)


#: what the bar says in each stage (esptk.progress.STAGES)
VERBS = {"compare": "Comparing", "erase": "Erasing", "write": "Writing", "read": "Reading", "verify": "Verifying"}
_TASK_AT = re.compile(r"(\w+) at 0x([0-9a-fA-F]+)")  #: "Writing at 0x00010000": verb, address


class RichProgress:
    """A :class:`esptk.progress.StagedSink` drawing bars on stderr (or on ``console``).

    The bar names the stage and the address: while writing or reading, the address the bytes have
    reached (``Writing at 0x00012000``); it shows the percentage, the bytes done of all, and where
    the data goes compressed, the compressed bytes sent (``61440/163840 B (35210 compressed)``).
    A stage reported without a task (a whole-chip erase) is shown without a byte count."""

    def __init__(self, enabled: bool = True, quiet: bool = False, console: Console | None = None,
                 min_refresh: float = 0.1) -> None:
        self.enabled = enabled and (console is not None or not _plain())
        self.quiet = quiet
        self.console = console
        self.min_refresh = min_refresh  #: seconds between redraws caused by advance()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._t0 = 0.0
        self._drawn = 0.0
        self._label = ""
        self._verb: str | None = None
        self._base = 0
        self._stage: str | None = None
        self._done = 0
        self._total: int | None = None
        self._packed: int | None = None

    def _open(self, total: int | None) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[bytes]}"),
            TransferSpeedColumn(), TimeRemainingColumn(), console=self.console or __getattr__("err"), transient=True,
        )
        self._progress.start()
        _bars.append(self)
        self._task = self._progress.add_task(self._describe(), total=total, bytes=self._bytes())

    def _close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
            if self in _bars:
                _bars.remove(self)

    def _describe(self) -> str:
        verb = VERBS.get(self._stage or "", self._verb)
        if self._verb is None:  # not an "X at 0x..." task: as it was named, or the stage alone
            return self._label or f"{verb} flash..."
        moving = self._stage in (None, "write", "read")  # erasing, verifying: the whole region
        return f"{verb} at 0x{self._base + (self._done if moving else 0):08x}"

    def _bytes(self) -> str:
        if self._total is None:
            return ""
        packed = f" ({self._packed} compressed)" if self._packed is not None else ""
        return f"{self._done}/{self._total} B{packed}"

    def _draw(self, force: bool = True) -> None:
        if self._progress is None or self._task is None:
            return
        self._progress.update(self._task, completed=self._done, description=self._describe(), bytes=self._bytes())
        now = time.monotonic()
        if force or now - self._drawn >= self.min_refresh:
            self._progress.refresh()
            self._drawn = now

    def start(self, task: str, total: int) -> None:
        self._t0 = time.monotonic()
        self._done, self._total, self._packed, self._label = 0, total, None, task  # the stage stays
        m = _TASK_AT.match(task)
        self._verb, self._base = (m.group(1), int(m.group(2), 16)) if m else (None, 0)
        if not self.enabled:
            return
        self._close()  # a task still drawn (the runs of one region follow each other)
        self._open(total)
        self._draw()

    def stage(self, name: str) -> None:
        self._stage = name
        if not self.enabled:
            return
        if self._progress is None:  # a stage of its own, without bytes to count
            self._verb, self._label, self._total, self._packed = None, "", None, None
            self._open(None)
        self._draw()

    def advance(self, done: int, compressed: int | None = None) -> None:
        self._done = done
        if compressed is not None:
            self._packed = compressed
        self._draw(force=self._total is not None and done >= self._total)

    def finish(self, summary: str | None = None) -> None:
        self._close()
        self._stage = None
        if summary and not self.quiet:
            if self.console is not None:
                self.console.print(summary, markup=False, emoji=False)
            else:
                info(summary)

    def note(self, message: str) -> None:
        if self.quiet:
            return
        if self.console is not None:
            self.console.print(message, markup=False, emoji=False)
        else:
            info(message)

    def warn(self, message: str) -> None:
        if self.console is not None:
            self.console.print(f"[yellow]warning:[/] {escape(message)}")
        else:
            warn(message)


def end_progress() -> None:
    """Stop every progress display (its line is cleared and the cursor shown again)."""
    while _bars:
        _bars[-1].finish()
