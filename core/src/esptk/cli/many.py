"""``esptk flash-many``: one job on many boards in parallel, a live table, one record per board."""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import FlashError, UsageError
from . import console
from .connect import state_of
from .flash import FlashFreq, FlashMode, FlashSize, parse_pairs

if TYPE_CHECKING:
    from ..many import BoardRecord, Job

STAGES = {"connecting": "connecting", "writing": "writing", "reading": "verifying", "erasing": "erasing",
          "comparing": "comparing", "verifying": "verifying", "resetting": "resetting", "retrying": "retrying",
          "done": "done", "failed": "FAILED"}


def register(app: typer.Typer) -> None:
    app.command("flash-many")(flash_many_cmd)


class Board:
    def __init__(self, port: str) -> None:
        self.port = port
        self.fields: dict[str, Any] = {"stage": "waiting", "done": 0, "total": 0}
        self.t0 = time.monotonic()
        self.stage_t0 = self.t0

    def progress(self) -> str:
        total = self.fields.get("total") or 0
        return f"{100 * self.fields.get('done', 0) / total:5.1f}%" if total else ""

    def rate(self) -> str:
        if self.fields.get("stage") != "writing":
            return ""
        dt = time.monotonic() - self.stage_t0
        return f"{self.fields.get('done', 0) * 8 / max(dt, 1e-3) / 1000:.0f} kbit/s"


class BoardTable:
    """The BoardSink the CLI draws: a rich live table on a terminal, plain lines otherwise."""

    def __init__(self, live: bool, quiet: bool, bell: bool) -> None:
        self.boards: dict[str, Board] = {}
        self.lock = threading.Lock()
        self.live = live
        self.quiet = quiet
        self.bell = bell

    def update(self, port: str, **fields: Any) -> None:
        with self.lock:
            b = self.boards.get(port)
            if b is None or (fields.get("stage") == "connecting" and b.fields.get("stage") in ("done", "failed")):
                b = self.boards[port] = Board(port)
            stage_before = b.fields.get("stage")
            b.fields.update(fields)
            stage = b.fields.get("stage")
            if stage != stage_before:
                b.stage_t0 = time.monotonic()
        if stage != stage_before and not self.live and not self.quiet:
            console.info(self.line(b))
        if stage in ("done", "failed") and stage != stage_before and self.bell:
            sys.stderr.write("\a")

    def line(self, b: Board) -> str:
        f = b.fields
        parts = [b.port, STAGES.get(f.get("stage", ""), f.get("stage", ""))]
        if f.get("chip"):
            parts.append(f"{f['chip']} {f.get('mac', '')}")
        if f.get("stage") in ("done", "failed"):
            parts.append(f"{f.get('seconds', 0):.1f} s")
        if f.get("error"):
            parts.append(f"error: {f['error']}")
        return " | ".join(parts)

    def render(self) -> Any:
        from rich.table import Table

        t = Table(title="esptk flash-many", expand=False)
        for col in ("port", "chip", "MAC", "stage", "progress", "rate", "result", "elapsed"):
            t.add_column(col)
        counts = {"done": 0, "failed": 0, "running": 0}
        with self.lock:
            boards = list(self.boards.values())
        for b in boards:
            f = b.fields
            stage = f.get("stage", "")
            result = stage if stage in ("done", "failed") else ""
            counts[result or "running"] += 1
            style = {"done": "green", "failed": "red"}.get(result, "")
            elapsed = f.get("seconds") if result else time.monotonic() - b.t0
            t.add_row(b.port, f.get("chip") or "", f.get("mac") or "", STAGES.get(stage, stage), b.progress(),
                      b.rate(), (f.get("error") or result)[:60], f"{elapsed:.1f} s", style=style)
        t.caption = f"done {counts['done']} / failed {counts['failed']} / running {counts['running']}"
        return t


def _job(ctx: typer.Context, pairs: list[str], job_file: str | None, **opts: Any) -> Job:
    from ..many import Job

    st = state_of(ctx)
    root = ctx.find_root()
    given = {name: getattr(st, name) for name in ("chip", "baud", "before", "after", "connect_attempts")
             if root.get_parameter_source(name) is not None
             and root.get_parameter_source(name).name != "DEFAULT"}  # type: ignore[union-attr]
    if st.no_stub:
        given["stub"] = False
    given.update({k: v for k, v in opts.items() if v is not None})
    if job_file:
        if pairs:
            raise UsageError("give the regions either as ADDRESS FILE pairs or in --job, not both")
        return Job.load(job_file, **given)
    if not pairs:
        raise UsageError("no regions to write", hint="give ADDRESS FILE pairs, or --job job.toml")
    defaults = {"chip": st.chip, "baud": st.baud, "before": st.before, "after": st.after,
                "connect_attempts": st.connect_attempts, "stub": not st.no_stub}
    return Job(regions=parse_pairs(pairs), **{**defaults, **given})


def flash_many_cmd(
    ctx: typer.Context,
    pairs: Annotated[list[str] | None, typer.Argument(help="ADDRESS FILE pairs (or --job).",
                                                      metavar="[ADDRESS FILE ...]")] = None,
    ports: Annotated[list[str] | None, typer.Option("--port", "-p", help="A board's port (repeat it).")] = None,
    all_ports_: Annotated[bool, typer.Option(
        "--all-ports", help="Every serial port that may hold a board (as list-ports; --port-filter narrows).",
    )] = False,
    job_file: Annotated[str | None, typer.Option("--job", help="Job file (TOML or JSON): regions and options.")] = None,
    log: Annotated[str | None, typer.Option("--log", help="Append one JSON line per board to this file.")] = None,
    watch_: Annotated[bool, typer.Option("--watch", help="Keep running: flash every board that appears.")] = False,
    count: Annotated[int | None, typer.Option("--count", help="With --watch: stop after this many boards.")] = None,
    retries: Annotated[int | None, typer.Option("--retries", help="Further attempts per board (default 2).")] = None,
    expect_flash_size: Annotated[str | None, typer.Option(
        "--expect-flash-size", help="Refuse boards whose detected flash size differs (e.g. 4MB).")] = None,
    flash_mode: FlashMode = "keep", flash_freq: FlashFreq = "keep", flash_size: FlashSize = "keep",
    erase_all: Annotated[bool, typer.Option("--erase-all", "-e", help="Erase all flash first.")] = False,
    no_compress: Annotated[bool, typer.Option("--no-compress", "-u", help="Do not compress.")] = False,
    no_skip: Annotated[bool, typer.Option("--no-skip", help="Write every sector, even unchanged ones.")] = False,
    bell: Annotated[bool, typer.Option("--bell", help="Ring the bell when a board is done or failed.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as one JSON object.")] = False,
) -> None:
    """Flash one job to many boards in parallel, each with its own link, reset and retries.

    A board that fails never stops the others. Rerunning the job resumes interrupted boards: sectors
    that already hold the right bytes are not written again."""
    from ..many import RecordLog, flash_many, watch

    st = state_of(ctx)
    port_list = list(ports or []) + ([st.port] if st.port and st.port not in (ports or []) else [])
    enumerate_ports = all_ports_ or bool(st.port_filter)
    if enumerate_ports and port_list:
        raise UsageError("name ports with --port, or choose them with --all-ports/--port-filter, not both")
    listed = _listed_ports(st.port_filter) if enumerate_ports else {}
    if enumerate_ports and not listed and not watch_:
        raise UsageError("no serial port found" + (" matching --port-filter" if st.port_filter else ""),
                         hint="connect the boards (esptk list-ports shows what is there)")
    port_list = port_list or list(listed)
    if not port_list and not (enumerate_ports and watch_):
        raise UsageError("no ports given", hint="name each board's port with --port (repeat it), or --all-ports")
    if count is not None and count < 1:
        raise UsageError("--count must be at least 1")
    if retries is not None and retries < 0:
        raise UsageError("--retries cannot be negative")
    opts: dict[str, Any] = {
        "retries": retries, "expect_flash_size": expect_flash_size, "flash_mode": None if flash_mode == "keep"
        else flash_mode, "flash_freq": None if flash_freq == "keep" else flash_freq,
        "flash_size": None if flash_size == "keep" else flash_size, "erase_all": erase_all or None,
        "compress": False if no_compress else None, "skip": False if no_skip else None,
    }
    job = _job(ctx, list(pairs or []), job_file, **opts)
    json_out = as_json or st.json
    live = console.err.is_terminal and not json_out and not st.quiet
    table = BoardTable(live=live, quiet=st.quiet or json_out, bell=bell)
    records_log = RecordLog(log)
    stop = threading.Event()
    records: list[BoardRecord] = []
    try:
        with _maybe_live(table, live):
            if watch_:
                present = (lambda: _listed_ports(st.port_filter)) if enumerate_ports else (
                    lambda: dict.fromkeys(port_list))
                records = watch(st.registry, present, job, table, records_log, stop, count=count)
            else:
                records = flash_many(st.registry, port_list, job, table, records_log,
                                     serials={k: v for k, v in listed.items() if v})
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        records_log.close()
    done = sum(r.result == "done" for r in records)
    failed = len(records) - done
    if json_out:
        console.out_json({"boards": [r.as_dict() for r in records], "done": done, "failed": failed})
    elif not st.quiet:
        skipped = sum(r.skipped_bytes for r in records)
        console.info(f"{done} board(s) done, {failed} failed" + (f"; {skipped} bytes were already in flash and "
                                                                  "skipped" if skipped else ""))
    if failed:
        first = next(r for r in records if r.result != "done")
        raise FlashError(f"{failed} of {len(records)} board(s) failed (first: {first.port}: {first.error})",
                         hint="rerun the same job: boards resume where they stopped")


def _listed_ports(filters: tuple[str, ...]) -> dict[str, str | None]:
    """The candidate ports (list-ports order, never Bluetooth or modems unless a filter names
    them), with their USB serial numbers."""
    from ..ports import candidates
    from .ports import all_ports

    return {p.device: p.serial_number for p in candidates(all_ports(), filters)}


def _maybe_live(table: BoardTable, live: bool) -> Any:
    import contextlib

    if not live:
        return contextlib.nullcontext()
    from rich.live import Live

    class _Renderable:
        def __rich__(self) -> Any:
            return table.render()

    return Live(_Renderable(), console=console.err, refresh_per_second=4)
