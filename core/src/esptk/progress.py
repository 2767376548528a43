"""Progress reporting is an interface: library code reports, only the CLI renders.

A sink has five methods (:class:`ProgressSink`). A sink may also implement the two additions of
:class:`StagedSink`: ``stage(name)``, what the current region is going through (:data:`STAGES`), and
``advance(done, compressed)``, the bytes sent on the wire where they are compressed. Library code
reaches every sink through :func:`staged`, so a sink written for the five methods keeps working.
"""

from __future__ import annotations

import inspect
from typing import Protocol, runtime_checkable

#: the stages library code reports, in the order a region goes through them: "compare" (the chip
#: hashes its flash to find what already holds the bytes), "erase" (where the loader erases as a step
#: of its own or up front), "write", "read", "verify"
STAGES = ("compare", "erase", "write", "read", "verify")


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


@runtime_checkable
class StagedSink(ProgressSink, Protocol):
    """A sink that is also told the stage and the compressed bytes."""

    def stage(self, name: str) -> None:
        """The current region enters stage ``name`` (one of :data:`STAGES`). Reported just before
        ``start``, it is the stage the task begins in; a stage may also come without a task (a
        whole-chip erase, which has no byte count). ``finish`` ends it."""
        ...

    def advance(self, done: int, compressed: int | None = None) -> None:
        """``done`` units complete; ``compressed``: bytes of compressed data sent for them so far
        (None where the data goes uncompressed)."""
        ...


class _Adapter:
    """Gives a five-method sink the two additions: stages are dropped, ``compressed`` is not passed."""

    def __init__(self, inner: ProgressSink, takes_compressed: bool) -> None:
        self.inner = inner
        self._takes_compressed = takes_compressed

    def start(self, task: str, total: int) -> None:
        self.inner.start(task, total)

    def advance(self, done: int, compressed: int | None = None) -> None:
        if self._takes_compressed:
            self.inner.advance(done, compressed=compressed)  # type: ignore[call-arg]
        else:
            self.inner.advance(done)

    def finish(self, summary: str | None = None) -> None:
        self.inner.finish(summary)

    def note(self, message: str) -> None:
        self.inner.note(message)

    def warn(self, message: str) -> None:
        self.inner.warn(message)

    def stage(self, name: str) -> None:
        fn = getattr(self.inner, "stage", None)
        if callable(fn):
            fn(name)


def _takes_compressed(sink: object) -> bool:
    try:
        params = inspect.signature(sink.advance).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False
    return "compressed" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def staged(sink: ProgressSink) -> StagedSink:
    """``sink`` itself if it implements both additions, else a wrapper that gives it them."""
    if isinstance(sink, _Adapter):
        return sink
    has_stage = callable(getattr(sink, "stage", None))
    takes = _takes_compressed(sink)
    if has_stage and takes:
        return sink  # type: ignore[return-value]
    return _Adapter(sink, takes)


class NullProgress:
    """A sink that ignores everything (the library default)."""

    def start(self, task: str, total: int) -> None:
        pass

    def advance(self, done: int, compressed: int | None = None) -> None:
        pass

    def finish(self, summary: str | None = None) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def stage(self, name: str) -> None:
        pass


class RecordingProgress(NullProgress):
    """Keeps what it was told; for tests and for library users who want a log.

    ``advance`` is recorded as ``("advance", done)``, followed by ``("compressed", bytes)`` where
    compressed data was sent; ``stage`` as ``("stage", name)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def start(self, task: str, total: int) -> None:
        self.events.append(("start", (task, total)))

    def advance(self, done: int, compressed: int | None = None) -> None:
        self.events.append(("advance", done))
        if compressed is not None:
            self.events.append(("compressed", compressed))

    def finish(self, summary: str | None = None) -> None:
        self.events.append(("finish", summary))

    def note(self, message: str) -> None:
        self.events.append(("note", message))

    def warn(self, message: str) -> None:
        self.events.append(("warn", message))

    def stage(self, name: str) -> None:
        self.events.append(("stage", name))

    def stages(self) -> list[str]:
        """The stages reported, in order, repeats of the same stage in a row merged."""
        out: list[str] = []
        for kind, value in self.events:
            if kind == "stage" and (not out or out[-1] != value):
                out.append(str(value))
        return out
