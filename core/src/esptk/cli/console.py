"""Rendering: rich on stderr for people, plain text/JSON on stdout for data."""

from __future__ import annotations

import json
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


class RichProgress:
    """A :class:`esptk.progress.ProgressSink` drawing bars on stderr."""

    def __init__(self, enabled: bool = True, quiet: bool = False) -> None:
        self.enabled = enabled and not _plain()
        self.quiet = quiet
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._t0 = 0.0
        self._verb: str | None = None
        self._base = 0

    def start(self, task: str, total: int) -> None:
        self._t0 = time.monotonic()
        if not self.enabled:
            return
        import re

        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(), console=__getattr__("err"), transient=True,
        )
        self._progress.start()
        _bars.append(self)
        self._task = self._progress.add_task(task, total=total)
        m = re.match(r"(\w+) at 0x([0-9a-fA-F]+)", task)  # "Writing at 0x...": show the moving address
        self._verb, self._base = (m.group(1), int(m.group(2), 16)) if m else (None, 0)

    def advance(self, done: int) -> None:
        if self._progress is not None and self._task is not None:
            if self._verb is None:
                self._progress.update(self._task, completed=done)
            else:
                self._progress.update(self._task, completed=done,
                                      description=f"{self._verb} at 0x{self._base + done:08x}")

    def finish(self, summary: str | None = None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            if self in _bars:
                _bars.remove(self)
        if summary and not self.quiet:
            info(summary)

    def note(self, message: str) -> None:
        if not self.quiet:
            info(message)

    def warn(self, message: str) -> None:
        warn(message)


def end_progress() -> None:
    """Stop every progress display (its line is cleared and the cursor shown again)."""
    while _bars:
        _bars[-1].finish()
