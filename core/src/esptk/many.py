"""Flashing many boards at once: one job, one worker thread per board, one record per board.

A *job* is what a production line runs every time: regions (address and file), write options, and
what a board must be (chip, flash size). :func:`flash_board` runs it on one port and never raises:
whatever happens becomes the board's :class:`BoardRecord`. :func:`flash_many` runs it on many ports
in parallel; a board that fails never stops the others. Records go to a JSON-lines log, one line per
board, appended with a single ``write`` on a file opened for appending (so concurrent writers never
interleave lines and a crash loses at most the line being written).

Resume needs nothing special: writes skip the sectors that already hold the right bytes
(:mod:`esptk.sectors`), so running the job again on a board whose write was interrupted sends only
the rest, and the record says how much was skipped.

Progress of every board goes to a :class:`BoardSink`; only the CLI draws it.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import ChipError, EsptkError, UsageError
from .fileio import parse_int, read_file
from .flasher import Region

#: errors that end a board's attempts at once: retrying cannot help
FINAL = (UsageError, ChipError)


@dataclass
class Job:
    regions: list[Region]
    chip: str = "auto"  #: the chip every board must be ("auto": any)
    flash_size: str = "keep"  #: as write-flash's --flash-size
    flash_mode: str = "keep"
    flash_freq: str = "keep"
    expect_flash_size: str | None = None  #: refuse a board whose detected flash differs
    compress: bool | None = None
    erase_all: bool = False
    skip: bool = True
    baud: int = 115200
    before: str = "default_reset"
    after: str = "hard_reset"
    stub: bool = True
    connect_attempts: int = 7
    retries: int = 2  #: further attempts after a failed one (each resumes where it stopped)

    @classmethod
    def load(cls, path: str, **overrides: Any) -> Job:
        """A job from a TOML (Python 3.11+) or JSON file; region files are relative to it."""
        text = read_file(path, "job file")
        try:
            if path.endswith(".json"):
                raw = json.loads(text)
            else:
                try:
                    import tomllib
                except ModuleNotFoundError:  # Python 3.10
                    raise UsageError(f"cannot read {path}: TOML job files need Python 3.11 or newer",
                                     hint="write the job as JSON (job.json) instead") from None
                raw = tomllib.loads(text.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise UsageError(f"job file {path} is not valid: {e}", hint="check its syntax") from None
        return cls.from_dict(raw, Path(path).parent, **overrides)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], base: Path, **overrides: Any) -> Job:
        if not isinstance(raw, dict):
            raise UsageError("a job file holds a table of settings", hint="see docs/factory.md")
        raw = dict(raw)
        items = raw.pop("regions", None)
        if not isinstance(items, list) or not items:
            raise UsageError("the job has no regions", hint='add regions = [{address = "0x1000", file = "..."}]')
        regions = []
        for item in items:
            if not isinstance(item, dict) or "address" not in item or "file" not in item:
                raise UsageError(f"job region {item!r} needs an address and a file")
            addr = item["address"] if isinstance(item["address"], int) else parse_int(str(item["address"]), "address")
            name = str(base / str(item["file"]))
            regions.append(Region(addr, read_file(name), name))
        known = {f for f in cls.__dataclass_fields__ if f != "regions"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise UsageError(f"unknown job setting(s): {', '.join(unknown)}",
                             hint="settings: " + ", ".join(sorted(known)))
        raw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(regions=regions, **raw)


@dataclass
class BoardRecord:
    port: str
    time: str = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"))
    host: str = field(default_factory=socket.gethostname)
    usb_serial: str | None = None
    chip: str | None = None
    revision: str | None = None
    mac: str | None = None
    flash_id: str | None = None
    flash_size: str | None = None
    regions: list[dict[str, Any]] = field(default_factory=list)
    loader: str | None = None
    baud: int | None = None
    retries: int = 0
    seconds: float = 0.0
    result: str = "running"  #: "done" or "failed" at the end
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def skipped_bytes(self) -> int:
        return sum(int(r.get("skipped_bytes", 0)) for r in self.regions)


class BoardSink(Protocol):
    """Receives what each board is doing; ``fields`` are BoardRecord names plus ``stage``,
    ``done`` and ``total`` (bytes of the current stage)."""

    def update(self, port: str, **fields: Any) -> None: ...


#: esptk.progress stages as BoardSink stages
STAGE_NAMES = {"compare": "comparing", "erase": "erasing", "write": "writing", "read": "reading",
               "verify": "verifying"}


class _BoardProgress:
    """A ProgressSink for one board, forwarding to the BoardSink under the board's port."""

    def __init__(self, sink: BoardSink, port: str) -> None:
        self.sink, self.port = sink, port

    def start(self, task: str, total: int) -> None:
        stage = "erasing" if task.startswith("Eras") else task.split(" ")[0].lower()
        self.sink.update(self.port, stage=stage, done=0, total=total, task=task)

    def advance(self, done: int, compressed: int | None = None) -> None:
        self.sink.update(self.port, done=done)

    def stage(self, name: str) -> None:
        self.sink.update(self.port, stage=STAGE_NAMES.get(name, name))

    def finish(self, summary: str | None = None) -> None:
        pass

    def note(self, message: str) -> None:
        self.sink.update(self.port, note=message)

    def warn(self, message: str) -> None:
        self.sink.update(self.port, warning=message)


def flash_board(registry: Any, port: str, job: Job, sink: BoardSink, usb_serial: str | None = None) -> BoardRecord:
    """Run ``job`` on the board at ``port``; every outcome ends up in the returned record.

    ``usb_serial``: the USB serial number of the port's bridge, where the port list knows it."""
    rec = BoardRecord(port=port, baud=job.baud, usb_serial=usb_serial)
    t0 = time.monotonic()
    for attempt in range(job.retries + 1):
        rec.retries = attempt
        try:
            _attempt(registry, port, job, sink, rec)
            rec.result, rec.error = "done", None
            break
        except FINAL as e:
            rec.result, rec.error = "failed", e.message
            break
        except EsptkError as e:
            rec.result, rec.error = "failed", e.message
            if attempt < job.retries:
                sink.update(port, stage="retrying", warning=f"{e.message}; retrying ({attempt + 2}/{job.retries + 1})")
        except Exception as e:  # noqa: BLE001 - a bug must not stop the other boards: record it
            rec.result, rec.error = "failed", f"internal error (a bug in esptk): {type(e).__name__}: {e}"
            break
    rec.seconds = round(time.monotonic() - t0, 3)
    sink.update(port, stage=rec.result, result=rec.result, error=rec.error, seconds=rec.seconds)
    return rec


def _attempt(registry: Any, port: str, job: Job, sink: BoardSink, rec: BoardRecord) -> None:
    from .flasher import detect_flash_size, patch_regions, write_flash
    from .session import connect
    from .spiflash import size_name

    sink.update(port, stage="connecting")
    s = connect(registry, port, chip=job.chip, baud=job.baud, before=job.before,
                connect_attempts=job.connect_attempts, use_stub=job.stub, progress=_BoardProgress(sink, port))
    try:
        info = s.info()
        rec.chip, rec.mac = info.chip, info.mac
        rec.revision = f"v{info.revision // 100}.{info.revision % 100}" if info.revision is not None else None
        rec.loader = "stub" if s.stub else "rom"
        jedec, size = detect_flash_size(s)
        rec.flash_id, rec.flash_size = f"0x{jedec:06x}", size_name(size)
        sink.update(port, chip=info.chip, mac=info.mac, flash_size=rec.flash_size)
        if job.expect_flash_size and size_name(size) != job.expect_flash_size.upper():
            raise ChipError(f"this board has {size_name(size)} of flash, the job expects {job.expect_flash_size}")
        regions = patch_regions(s, job.regions, job.flash_mode, job.flash_freq, job.flash_size)
        from .chip import parse_size

        forced = None if job.flash_size in ("keep", "detect") else parse_size(job.flash_size)
        results = write_flash(s, regions, compress=job.compress, erase_all=job.erase_all, flash_size=forced,
                              skip=job.skip)
        rec.regions = [{"name": r.name, **res.as_dict()} for r, res in zip(regions, results)]
        if not all(res.verified for res in results):
            raise UsageError(f"written but not verified: {results[0].how}",
                             hint="this loader cannot verify: use the stub")
        sink.update(port, stage="resetting")
        s.close(job.after)
    except BaseException:
        s.transport.close()
        raise


class RecordLog:
    """Appends one JSON line per board; safe across threads and processes (O_APPEND, one write)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fd: int | None = None
        if path:
            try:
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            except OSError as e:
                raise UsageError(f"cannot open the record log {path}: {e.strerror or e}",
                                 hint="check that the folder exists and is writable") from None

    def append(self, rec: BoardRecord) -> None:
        if self._fd is not None:
            os.write(self._fd, (json.dumps(rec.as_dict(), sort_keys=True) + "\n").encode())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def flash_many(registry: Any, ports: Sequence[str], job: Job, sink: BoardSink, log: RecordLog,
               on_record: Callable[[BoardRecord], None] | None = None,
               serials: Mapping[str, str] | None = None) -> list[BoardRecord]:
    """Run ``job`` on every port in parallel (a thread each: the work is waiting on links)."""
    if len(set(ports)) != len(ports):
        raise UsageError("a port is named twice", hint="name each port once")
    records: dict[str, BoardRecord] = {}
    lock = threading.Lock()

    def work(port: str) -> None:
        rec = flash_board(registry, port, job, sink, (serials or {}).get(port))
        with lock:
            records[port] = rec
            log.append(rec)
            if on_record is not None:
                on_record(rec)

    threads = [threading.Thread(target=work, args=(p,), name=f"board {p}", daemon=True) for p in ports]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [records[p] for p in ports]


def watch(registry: Any, ports: Callable[[], Mapping[str, str | None]], job: Job, sink: BoardSink, log: RecordLog,
          stop: threading.Event, on_record: Callable[[BoardRecord], None] | None = None,
          count: int | None = None, poll: float = 1.0) -> list[BoardRecord]:
    """Flash every board that appears until ``stop`` is set (or ``count`` boards are done).

    ``ports()`` lists the ports present now, each with its USB serial number (or None).

    A board appears when its port appears (plugged in), or when a port whose board was flashed
    answers with another MAC (a board swapped in a jig, reset into its loader). Ports are probed
    without a reset once their board is done, so a finished board is never reset again.
    """
    from .session import connect

    done_mac: dict[str, str | None] = {}
    busy: set[str] = set()
    records: list[BoardRecord] = []
    lock = threading.Lock()

    def work(port: str, serial: str | None) -> None:
        rec = flash_board(registry, port, job, sink, serial)
        with lock:
            busy.discard(port)
            done_mac[port] = rec.mac
            records.append(rec)
            log.append(rec)
            if on_record is not None:
                on_record(rec)

    def new_board(port: str) -> bool:
        """Is there a board on ``port`` that was not flashed yet? (probe: one connect attempt)"""
        known = port in done_mac
        try:
            s = connect(registry, port, chip=job.chip, baud=115200, before="no_reset" if known else job.before,
                        connect_attempts=1, use_stub=False)
        except EsptkError:
            return False  # nothing in its loader there (yet)
        try:
            mac = s.info().mac
        except EsptkError:
            return False
        finally:
            s.transport.close()
        return not known or mac != done_mac[port]

    threads: list[threading.Thread] = []
    while not stop.is_set():
        present = dict(ports())
        with lock:
            for gone in [p for p in done_mac if p not in present and p not in busy]:
                del done_mac[gone]  # unplugged: whatever comes back on it is a new board
            started = len(records) + len(busy)
        for port in present:
            if count is not None and started >= count:
                break
            with lock:
                if port in busy:
                    continue
            if new_board(port):
                with lock:
                    busy.add(port)
                started += 1
                t = threading.Thread(target=work, args=(port, present[port]), name=f"board {port}", daemon=True)
                threads.append(t)
                t.start()
        with lock:
            if count is not None and len(records) >= count:
                break
        stop.wait(poll)
    for t in threads:
        t.join()
    return records
