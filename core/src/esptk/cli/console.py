"""Rendering: rich on stderr for people, plain text/JSON on stdout for data."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

err = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_SCHEMA = {"major": 1, "minor": 0}

_bars: list[RichProgress] = []  #: progress displays drawing now (ended on Ctrl-C)


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def out_json(obj: dict[str, Any]) -> None:
    out(json.dumps({"schema": JSON_SCHEMA, **obj}, indent=2, sort_keys=False))


def info(msg: str) -> None:
    err.print(msg, markup=False)


def warn(msg: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(msg)}")


def escape(text: str) -> str:
    from rich.markup import escape as _e

    return _e(text)


class RichProgress:
    """A :class:`esptk.progress.ProgressSink` drawing bars on stderr."""

    def __init__(self, enabled: bool = True, quiet: bool = False) -> None:
        self.enabled = enabled and err.is_terminal
        self.quiet = quiet
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._t0 = 0.0

    def start(self, task: str, total: int) -> None:
        self._t0 = time.monotonic()
        if not self.enabled:
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=err, transient=True,
        )
        self._progress.start()
        _bars.append(self)
        self._task = self._progress.add_task(task, total=total)

    def advance(self, done: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done)

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
