"""Client of stubs/test/unit_main.c: runs the compiled SLIP, inflate and MD5 code under QEMU."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from .qemu import qemu_command

RANDOM_CHUNKS = 0x80000000


class UnitHarness:
    def __init__(self, elf: Path) -> None:
        self.proc = subprocess.Popen(qemu_command(elf), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def _read(self, n: int) -> bytes:
        assert self.proc.stdout is not None
        buf = b""
        while len(buf) < n:
            chunk = self.proc.stdout.read(n - len(buf))
            if not chunk:
                err = self.proc.stderr.read() if self.proc.stderr else b""
                raise RuntimeError(f"harness died (exit {self.proc.wait()}): {err.decode(errors='replace')}")
            buf += chunk
        return buf

    def request(self, op: str, arg: int, data: bytes) -> tuple[int, bytes]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(struct.pack("<BII", ord(op), arg, len(data)) + data)
        self.proc.stdin.flush()
        status, length = struct.unpack("<iI", self._read(8))
        return status, self._read(length)

    def inflate(self, stream: bytes, chunks: int = 0) -> tuple[int, bytes]:
        return self.request("I", chunks, stream)

    def md5(self, data: bytes, chunks: int = 0) -> bytes:
        return self.request("M", chunks, data)[1]

    def slip_encode(self, data: bytes) -> bytes:
        return self.request("E", 0, data)[1]

    def slip_decode(self, wire: bytes, max_len: int = 256) -> list[int | bytes]:
        """Frames found, each as bytes, or as the (negative) error code slip_recv returned."""
        count, raw = self.request("D", max_len, wire)
        frames: list[int | bytes] = []
        pos = 0
        for _ in range(count):
            (n,) = struct.unpack_from("<i", raw, pos)
            pos += 4
            if n > 0:
                frames.append(raw[pos:pos + n])
                pos += n
            else:
                frames.append(n)
        return frames

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(struct.pack("<BII", ord("Q"), 0, 0))
        self.proc.stdin.close()
        return self.proc.wait(timeout=10)
