"""An esptk Transport whose "chip" is the stub running under qemu-system-xtensa.

The stub's test build (stubs/test/sim_hal.c) uses semihosting stdin/stdout as its UART, so the
byte pipe is simply the QEMU process's stdin and stdout.
"""

from __future__ import annotations

import os
import selectors
import subprocess
from pathlib import Path
from typing import ClassVar

from esptk.errors import LinkLost, TransportError
from esptk.transport import Capability

from .qemu import qemu_command


class QemuTransport:
    """``qemu:///path/to/stub.elf[?cpu=de212][&icount=5][&word=ADDR:VALUE...]``: start QEMU on open,
    talk over its pipes; each ``word`` presets a 32-bit word (e.g. a UART divider)."""

    SCHEMES: ClassVar[tuple[str, ...]] = ("qemu",)

    def __init__(self, url: str, baud: int) -> None:
        self.url = url
        self.capabilities = Capability.SET_BAUD
        self._baud = baud
        path, _, query = url.split("://", 1)[1].partition("?")
        self.elf = Path(path)
        pairs = [p.partition("=")[::2] for p in query.split("&") if p]
        params = dict(pairs)
        self.words = {int(a, 0): int(v, 0) for k, w in pairs if k == "word" for a, v in [w.split(":")]}
        self.cpu = params.get("cpu", "lx106")
        #: QEMU's -icount shift (deterministic instruction timing), None to run freely
        self.icount = int(params["icount"]) if "icount" in params else None
        self.proc: subprocess.Popen[bytes] | None = None
        self._sel = selectors.DefaultSelector()
        self.exit_code: int | None = None

    @classmethod
    def from_url(cls, url: str, baud: int) -> QemuTransport:
        return cls(url, baud)

    def open(self) -> None:
        if not self.elf.is_file():
            raise TransportError(f"no stub ELF at {self.elf}")
        self.proc = subprocess.Popen(qemu_command(self.elf, self.cpu, self.icount, self.words), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.exit_code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.exit_code = self.proc.wait()
        self._sel.close()
        self.proc = None

    def _running(self) -> subprocess.Popen[bytes]:
        if self.proc is None:
            raise TransportError("the QEMU transport is not open")
        return self.proc

    def read(self, size: int, timeout: float) -> bytes:
        proc = self._running()
        assert proc.stdout is not None
        if not self._sel.select(timeout):
            return b""
        data = os.read(proc.stdout.fileno(), size)
        if not data:
            self.exit_code = proc.wait()
            raise LinkLost(f"QEMU exited with status {self.exit_code}")
        return data

    def write(self, data: bytes) -> None:
        proc = self._running()
        assert proc.stdin is not None
        try:
            proc.stdin.write(data)
        except BrokenPipeError as e:
            raise LinkLost(f"QEMU exited with status {proc.wait()}") from e

    def flush_input(self) -> None:
        while self.proc is not None and self.read(65536, 0):
            pass

    @property
    def baud(self) -> int:
        return self._baud

    def set_baud(self, baud: int) -> None:
        self._baud = baud

    def set_lines(self, dtr: bool | None = None, rts: bool | None = None) -> None:
        """No control lines: a no-op."""

    def wait_exit(self, timeout: float = 5.0) -> int:
        """Exit status of QEMU once the stub has left (hal_reboot, hal_run_user_code, exit)."""
        proc = self._running()
        self.exit_code = proc.wait(timeout=timeout)
        return self.exit_code
