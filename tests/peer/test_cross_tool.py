"""esptk and the real esptool on the same virtual chip: what one writes, the other reads back."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from ..conftest import run_esptk

CHIPS = pytest.mark.parametrize("chip", ["esp8266", "esp32"])
LINKS = pytest.mark.parametrize("link", ["tcp", "pty"])


def firmware_like(size: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(64)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.7 else rnd.randbytes(4) for _ in range(size // 4))


def esptk(server, *args: str):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN201
    r = run_esptk("--chip", server.chip, "--port", server.endpoint, "--after", "no_reset", *args)
    assert r.code == 0, f"esptk {' '.join(args)} exited {r.code}:\n{r.err}"
    return r


@CHIPS
@LINKS
def test_esptk_writes_esptool_reads(serve, tmp_path: Path, chip: str, link: str) -> None:  # noqa: ANN001
    server = serve(chip, link)
    data = firmware_like(1 << 20, 1)
    src, back = tmp_path / "in.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    r = esptk(server, "write-flash", "0x100000", str(src))
    assert "Wrote 1048576 bytes" in r.err
    server.esptool("read-flash", "0x100000", str(len(data)), str(back), stub=True)
    assert back.read_bytes() == data
    server.esptool("verify-flash", "0x100000", str(src))


@CHIPS
@LINKS
def test_esptool_writes_esptk_reads(serve, tmp_path: Path, chip: str, link: str) -> None:  # noqa: ANN001
    server = serve(chip, link)
    data = firmware_like(300 * 1024, 2)
    src, back = tmp_path / "in.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    server.esptool("write-flash", "0x40000", str(src))
    esptk(server, "read-flash", "0x40000", str(len(data)), str(back))
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest()
    r = esptk(server, "verify-flash", "0x40000", str(src))
    assert "OK" in r.out


@CHIPS
def test_identity_agrees(serve, chip: str) -> None:  # noqa: ANN001
    server = serve(chip, "tcp")
    ours = esptk(server, "read-mac").out.strip()
    theirs = server.esptool("read-mac").stdout
    assert ours.startswith("MAC: ") and ours[5:] in theirs
    ours = esptk(server, "flash-id").out
    theirs = server.esptool("flash-id").stdout
    assert "Detected flash size: 4MB" in ours and "Detected flash size: 4MB" in theirs
