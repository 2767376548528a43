"""esptool's log format on stdout, for the tools that read it (Arduino IDE, CI logs, IDE plugins).

``--log-format esptool`` (or ``ESPTK_LOG_FORMAT=esptool``) asks for it. Without a choice it is used
when stdout is not a terminal, for the commands that print no data of their own (a ``read-mac`` or a
``--json`` run keeps its stdout clean). esptk's own messages stay on stderr either way.

The lines tools grep for are the ones esptool prints: ``Writing at 0x... [bar] 12.3% 16384/131072
bytes...`` (one per block, at most one per second unless the address moved on), ``Wrote ... bytes``,
``Hash of data verified.``, ``Leaving...`` and ``Hard resetting via RTS pin...``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..progress import StagedSink

FORMATS = ("auto", "esptool", "esptk")
ENV = "ESPTK_LOG_FORMAT"
#: commands whose stdout carries no data: in the automatic choice they log like esptool there
LOG_COMMANDS = frozenset({"write-flash", "read-flash", "erase-flash", "erase-region", "load-ram", "run",
                          "dump-mem"})
BAR = 30
_SUMMARY = re.compile(r"Wrote (\d+) bytes(?: \((\d+) compressed\))? at 0x([0-9a-f]+) in ([\d.]+) s "
                      r"\((\d+) kbit/s\)")
_TASK = re.compile(r"^(\w+) at 0x([0-9a-fA-F]+)")


def choose(value: str | None) -> str:
    """The format asked for (option, then environment), as one of FORMATS."""
    v = (value or os.environ.get(ENV) or "auto").strip().lower()
    if v not in FORMATS:
        from ..errors import UsageError

        raise UsageError(f"log format '{v}' is not one of {', '.join(FORMATS)}",
                         hint=f"use --log-format esptool or esptk (or set {ENV})")
    return v


def active(fmt: str, command: str | None, json_out: bool) -> bool:
    """Whether this run logs esptool's lines on stdout."""
    if json_out or fmt == "esptk":
        return False
    if fmt == "esptool":
        return True
    return command in LOG_COMMANDS and not _isatty()


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def progress_line(verb: str, address: int, done: int, total: int) -> str:
    frac = done / total if total else 1.0
    filled = int(frac * BAR)
    bar = "=" * filled + (">" if filled < BAR else "") + " " * max(0, BAR - filled - 1)
    return f"{verb} at 0x{address:08x} [{bar}] {frac * 100:5.1f}% {done}/{total} bytes..."


def after_lines(after: str, stub: bool, custom_hard_reset: str | None = None) -> list[str]:
    """What esptool prints when it leaves the loader with ``--after`` (``custom_hard_reset``: the
    config file's custom_hard_reset_sequence, which replaces the RTS pulse)."""
    lines = ["Leaving..."]
    if after == "hard_reset" and custom_hard_reset:
        lines.append(f"Custom reset sequence executed: {custom_hard_reset}")
    elif after in ("hard_reset", "watchdog_reset"):
        lines.append("Hard resetting via RTS pin...")
    elif after == "soft_reset":
        lines.append("Soft resetting...")
    elif after == "no_reset":  # a stub reboots into the ROM loader
        lines.append("Staying in bootloader.")
    else:
        lines.append("Staying in flasher stub.")
    return lines


class EsptoolLog:
    """A :class:`esptk.progress.StagedSink` that prints esptool's lines on stdout and forwards
    everything to ``inner`` (esptk's own stderr rendering). Stages and compressed byte counts are
    not part of esptool's lines: they are only forwarded, and a verification task ("Verifying at")
    prints nothing here."""

    def __init__(self, inner: StagedSink, min_interval: float = 1.0) -> None:
        self.inner = inner
        self.min_interval = min_interval
        self._silent = False
        self._verb = ""
        self._base = 0
        self._total = 0
        self._last = 0.0
        self._last_addr = -1

    def start(self, task: str, total: int) -> None:
        m = _TASK.match(task)
        self._verb, self._base = (m.group(1), int(m.group(2), 16)) if m else (task, 0)
        self._total, self._last, self._last_addr = total, 0.0, -1
        self._silent = self._verb == "Verifying"
        self.inner.start(task, total)

    def stage(self, name: str) -> None:
        self.inner.stage(name)

    def advance(self, done: int, compressed: int | None = None) -> None:
        if self._silent:
            self.inner.advance(done, compressed=compressed)
            return
        now = time.monotonic()
        addr = self._base + done
        due = done >= self._total or self._verb == "Writing" or now - self._last >= self.min_interval
        if due and addr != self._last_addr:  # one line per block written, at most one a second else
            line(progress_line(self._verb, addr, done, self._total))
            self._last, self._last_addr = now, addr
        self.inner.advance(done, compressed=compressed)

    def finish(self, summary: str | None = None) -> None:
        if summary:
            m = _SUMMARY.match(summary)
            if m:
                written, packed, addr, secs, rate = m.groups()
                comp = f" ({packed} compressed)" if packed else ""
                line(f"Wrote {written} bytes{comp} at 0x{int(addr, 16):08x} in {float(secs):.1f} seconds "
                     f"({float(rate):.1f} kbit/s).")
            elif summary.startswith("Flash at"):  # every sector already held the data
                line(summary.split(",")[0].replace("; nothing written", ", skipping write") + ".")
            elif summary.startswith("Read "):
                line(summary.rstrip(".") + ".")
            if (m or summary.startswith("Flash at")) and summary.endswith(", verified"):
                line("Hash of data verified.")
        self.inner.finish(summary)

    def note(self, message: str) -> None:
        if message.startswith("Erasing flash"):
            line("Erasing flash (this may take a while)...")
        elif message == "Uploading stub...":
            line("Uploading stub flasher...")
        elif message.startswith("Stub running"):
            line("Stub flasher running.")
        elif message.startswith("Changed baud rate to"):
            line(message + ".")
        self.inner.note(message)

    def warn(self, message: str) -> None:
        self.inner.warn(message)
