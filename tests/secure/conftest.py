"""The real espsecure (esptool 5.6, a test-only dependency) as a black-box peer, run in-process."""

from __future__ import annotations

import contextlib
import hashlib
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

espsecure_module = pytest.importorskip("espsecure", reason="esptool 5.6 (requirements-dev.txt) provides espsecure")


@dataclass
class PeerResult:
    code: int
    out: str


def espsecure(*args: str | Path) -> PeerResult:
    """Run ``espsecure ARGS`` in this process (its CLI takes an argv list); exit code and output."""
    buf = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            espsecure_module.main([str(a) for a in args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception as e:  # noqa: BLE001 - espsecure shows some refusals as exceptions
            buf.write(f"{type(e).__name__}: {e}")
            code = 1
    return PeerResult(code, buf.getvalue())


@pytest.fixture
def peer() -> Callable[..., PeerResult]:
    return espsecure


def esp32_image(payload: bytes, hash_appended: bool, load_addr: int = 0x3FFB0000) -> bytes:
    """A minimal valid ESP32 app image: one segment, checksum, optional appended SHA-256."""
    payload += b"\0" * (-len(payload) % 4)
    head = struct.pack("<BBBBI", 0xE9, 1, 2, 0x20, 0x40080400)
    ext = struct.pack("<BBBBHBHH4sB", 0xEE, 0, 0, 0, 0, 0, 0, 0xFFFF, bytes(4), 1 if hash_appended else 0)
    body = head + ext + struct.pack("<II", load_addr, len(payload)) + payload
    checksum = 0xEF
    for b in payload:
        checksum ^= b
    body += b"\0" * (15 - len(body) % 16) + bytes([checksum])
    if hash_appended:
        body += hashlib.sha256(body).digest()
    return body
