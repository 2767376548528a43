"""A link that drops, corrupts or stops: every run ends verified or failed, never wrongly "done"."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from ..conftest import run_esptk

DATA = bytes(range(256)) * 256 + os.urandom(32 * 1024)  # 96 KiB, partly compressible


def write(tmp_path: Path, chip: str, opts: str, *extra: str) -> tuple[int, str, bytes, dict[str, object] | None]:
    flash = tmp_path / "flash.bin"
    image = tmp_path / "image.bin"
    image.write_bytes(DATA)
    url = f"sim://{chip}?flash_file={flash}&{opts}"
    r = run_esptk("--port", url, *extra, "write-flash", "0x10000", str(image), "--json", timeout=300)
    content = flash.read_bytes()[0x10000 : 0x10000 + len(DATA)] if flash.exists() else b""
    result = json.loads(r.out)["regions"][0] if r.code == 0 else None
    return r.code, r.err, content, result


def retried(err: str) -> bool:
    return any(t in err for t in ("sending it again", "writing the region again", "writing what is not yet right",
                                  "the first copy arrived"))


@pytest.mark.parametrize("extra", [("--no-stub",), ()], ids=["rom", "default"])
def test_a_corrupted_byte_to_the_chip_is_retried_and_verified(tmp_path: Path, extra: tuple[str, ...]) -> None:
    code, err, content, result = write(tmp_path, "esp32", "corrupt_at=30000&fault_dir=rx", *extra)
    assert code == 0, err
    assert retried(err)  # the fault really hit a block
    assert result is not None and result["verified"] and result["md5"] == hashlib.md5(DATA).hexdigest()
    assert content == DATA


def test_a_byte_lost_from_a_reply_is_retried_and_verified(tmp_path: Path) -> None:
    # offset 1000 of what the chip sends falls in the replies to the data blocks
    code, err, content, result = write(tmp_path, "esp32", "drop_at=1000&fault_dir=tx", "--no-stub")
    assert code == 0, err
    assert retried(err)
    assert result is not None and result["verified"] and content == DATA


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_noisy_line_ends_verified_or_failed(tmp_path: Path, seed: int) -> None:
    code, err, content, result = write(tmp_path, "esp32", f"corrupt_rate=0.00003&fault_dir=both&seed={seed}",
                                       "--no-stub")
    if code == 0:
        assert result is not None and result["verified"] and content == DATA
    else:
        assert code == 1 and "Traceback" not in err and "error:" in err


def test_lossy_replies_during_connect_are_survived(tmp_path: Path) -> None:
    code, err, content, result = write(tmp_path, "esp32", "drop_rate=0.01&fault_dir=tx&seed=5", "--no-stub")
    if code == 0:
        assert result is not None and result["verified"] and content == DATA
    else:
        assert code == 1 and "Traceback" not in err


@pytest.mark.slow
def test_a_chip_that_stops_answering_fails_clearly(tmp_path: Path) -> None:
    code, err, _content, result = write(tmp_path, "esp32", "hang_at=20000", "--no-stub")
    assert code == 1 and result is None
    assert "error:" in err and "Traceback" not in err
    assert "verified" not in err.split("error:")[-1]


@pytest.mark.slow
def test_a_chip_reset_mid_write_ends_verified_or_failed(tmp_path: Path) -> None:
    code, err, content, result = write(tmp_path, "esp32", "reset_at=40000", "--no-stub")
    if code == 0:
        assert result is not None and result["verified"] and content == DATA
    else:
        assert code == 1 and "Traceback" not in err
