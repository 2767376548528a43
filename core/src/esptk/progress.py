"""Progress reporting is an interface: library code reports, only the CLI renders."""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    """Receives progress of long operations. Every method may be called from library code."""

    def start(self, task: str, total: int) -> None:
        """A new task (e.g. "Writing at 0x00010000") of ``total`` units (bytes) begins."""
        ...

    def advance(self, done: int) -> None:
        """``done`` units of the current task are complete (absolute, not a delta)."""
        ...

    def finish(self, summary: str | None = None) -> None:
        """The current task ended; ``summary`` is an optional one-line result."""
        ...

    def note(self, message: str) -> None:
        """An informational message (e.g. "Stub running", "Changing baud rate")."""
        ...

    def warn(self, message: str) -> None:
        """Something the user should know but that does not stop the operation."""
        ...


class NullProgress:
    """A sink that ignores everything (the library default)."""

    def start(self, task: str, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def finish(self, summary: str | None = None) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


class RecordingProgress(NullProgress):
    """Keeps what it was told; for tests and for library users who want a log."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def start(self, task: str, total: int) -> None:
        self.events.append(("start", (task, total)))

    def advance(self, done: int) -> None:
        self.events.append(("advance", done))

    def finish(self, summary: str | None = None) -> None:
        self.events.append(("finish", summary))

    def note(self, message: str) -> None:
        self.events.append(("note", message))

    def warn(self, message: str) -> None:
        self.events.append(("warn", message))
