"""Encrypted writes on the virtual ESP32 (issue 9 item 7): the stub's FLASH_BEGIN with its 5th word
set to 1 writes through the flash-encryption engine, keyed by the eFuses; with no key burnt the
chip refuses. The result is checked against espsecure's ``encrypt-flash-data``."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from esptk.errors import CommandFailed
from esptk.plugins import make_plugin_manager
from esptk.protocol import op
from esptk.session import Session, connect

from ..conftest import Result
from .conftest import Chip

HAVE_FLASH_CRYPT = importlib.util.find_spec("esptk_esp32.flash_crypt") is not None


def stub_session(url: str) -> Session:
    return connect(make_plugin_manager(), port=url, chip="esp32", use_stub=True)


def write_encrypted(s: Session, offset: int, data: bytes) -> None:
    s.loader.command(op.FLASH_BEGIN, struct.pack("<IIIII", len(data), 1, len(data), offset, 1))
    s.loader.data_command(op.FLASH_DATA, data, 0)
    s.loader.command(op.FLASH_END, struct.pack("<I", 1))


def flash_of(s: Session, offset: int, size: int) -> bytes:
    return s.transport.chip.flash.read(offset, size)  # type: ignore[attr-defined,no-any-return]


def test_encrypted_write_without_a_key_is_refused(chip: Chip) -> None:
    s = stub_session(chip.url)
    try:
        with pytest.raises(CommandFailed):
            s.loader.command(op.FLASH_BEGIN, struct.pack("<IIIII", 32, 1, 32, 0x10000, 1))
        assert flash_of(s, 0x10000, 32) == b"\xff" * 32
    finally:
        s.transport.close()


@pytest.mark.peer
@pytest.mark.skipif(not HAVE_FLASH_CRYPT, reason="esptk_esp32.flash_crypt (helper secure11) is not merged yet")
@pytest.mark.parametrize(("conf", "offset"), [(0xF, 0x10000), (0x3, 0x1000), (0x0, 0x20020)])
def test_encrypted_write_matches_espsecure(chip: Chip, tmp_path: Path, cli: Callable[..., Result], conf: int,
                                           offset: int) -> None:
    key = os.urandom(32)
    (tmp_path / "key.bin").write_bytes(key)
    assert chip.esptk("burn-key", "flash_encryption", str(tmp_path / "key.bin"), "--do-not-confirm").code == 0
    if conf:
        assert chip.esptk("burn", "FLASH_CRYPT_CONFIG", hex(conf), "FLASH_CRYPT_CNT", "1",
                          "--do-not-confirm").code == 0
    plain = os.urandom(96)
    (tmp_path / "plain.bin").write_bytes(plain)
    subprocess.run([sys.executable, "-m", "espsecure", "encrypt-flash-data", "--keyfile", str(tmp_path / "key.bin"),
                    "--address", hex(offset), "--flash-crypt-conf", hex(conf), "--output",
                    str(tmp_path / "want.bin"), str(tmp_path / "plain.bin")], check=True, capture_output=True,
                   timeout=120)
    s = stub_session(chip.url)
    try:
        write_encrypted(s, offset, plain)
        assert flash_of(s, offset, len(plain)) == (tmp_path / "want.bin").read_bytes()
    finally:
        s.transport.close()
