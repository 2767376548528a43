"""Connecting from the command line: global options -> Session, banner, trace and progress."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer

from . import console
from .state import AppState

if TYPE_CHECKING:
    from ..progress import StagedSink
    from ..session import Session


def state_of(ctx: typer.Context) -> AppState:
    st = ctx.find_object(AppState)
    return st if st is not None else AppState()


class Tracer:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.last = self.t0

    def __call__(self, direction: str, data: bytes) -> None:
        now = time.monotonic()
        label = {"out": "Write", "in": "Read", "noise": "Noise"}.get(direction, direction)
        shown = data[:64].hex(" ") + (f" ... ({len(data)} bytes)" if len(data) > 64 else "")
        console.err.print(f"TRACE +{now - self.t0:8.3f} (+{(now - self.last) * 1000:6.1f} ms) "
                          f"{label} {len(data)} bytes: {shown}", markup=False, highlight=False)
        self.last = now


@contextlib.contextmanager
def session(ctx: typer.Context, use_stub: bool | None = None, no_progress: bool = False) -> Iterator[Session]:
    from ..session import connect
    from . import esptool_log

    st = state_of(ctx)
    log = esptool_log.active(st.log_format, ctx.info_name, st.json or bool(ctx.params.get("as_json")))
    # esptool's lines (on stdout) and esptk's bar do not share a terminal: with the lines, no bar
    bar = console.RichProgress(enabled=not no_progress and not st.json and not log, quiet=st.quiet or st.json)
    progress: StagedSink = esptool_log.EsptoolLog(bar) if log else bar

    def open_on(port: str | None, open_attempts: int = 1) -> Session:
        return connect(
            st.registry, port=port, chip=st.chip, baud=st.baud, before=st.before,
            connect_attempts=st.connect_attempts, use_stub=(not st.no_stub) if use_stub is None else use_stub,
            trace=Tracer() if st.trace else None, progress=progress, reset_delay=st.reset_delay,
            open_attempts=open_attempts, block_attempts=st.write_block_attempts,
        )

    if st.port:  # esptool's open_port_attempts: only for a port named (candidates found were there)
        s = open_on(st.port, st.open_port_attempts)
    else:
        from .ports import try_ports

        s = try_ports(st, open_on)
    ok = False
    try:
        if not st.quiet and not st.json:
            banner(s)
        if st.override_vddsdio:
            from .options import override_vddsdio

            override_vddsdio(s, st.override_vddsdio)
        yield s
        ok = True
    finally:
        if ok:
            if log:
                from .config import APPLIED

                custom = APPLIED.texts.get("custom_hard_reset_sequence")
                for line in esptool_log.after_lines(st.after, s.stub, custom):
                    esptool_log.line(line)
            s.close(st.after)
        else:
            s.transport.close()


def banner(s: Session) -> None:
    info = s.info()
    console.info(f"Chip is {info.description}")
    if info.features:
        console.info(f"Features: {', '.join(info.features)}")
    if info.crystal_mhz:
        console.info(f"Crystal is {info.crystal_mhz}MHz")
    console.info(f"MAC: {info.mac}")
    loader = "ROM"
    if s.stub:
        loader = f"stub (esptk stub protocol {s.stub_version.protocol})" if s.stub_version else "stub"
    console.info(f"Loader: {loader}")
