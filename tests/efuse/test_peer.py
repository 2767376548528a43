"""Peer checks: the real espefuse (esptool 5.6) and esptk on the same eFuses, both ways.

Two ways to share a chip: the same ``--path-efuse-file`` (espefuse ``--virt``), and espefuse
talking to ``esptk sim serve --efuse-file`` over TCP like to a board.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..peer.conftest import Server, start_server
from .conftest import Chip, run_espefuse

pytestmark = pytest.mark.peer

KEY = bytes(range(0xA0, 0xC0))


def espefuse_json(*conn: str) -> dict[str, Any]:
    out = run_espefuse(*conn, "summary", "--format", "json").stdout
    return json.loads(out[out.index("{"):])  # type: ignore[no-any-return]


def assert_same(ours: dict[str, Any], theirs: dict[str, Any]) -> int:
    """Field by field; returns how many fields were compared."""
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name] == theirs[name], name
    return len(theirs)


def assert_same_text(chip: Chip) -> None:
    """``esptk efuse summary`` and ``dump`` print espefuse's text line for line."""
    for command in (("summary",), ("dump",), ("dump", "--format", "joint")):
        theirs = run_espefuse(*virt(chip), *command).stdout.split("command ===\n", 1)[1]
        assert chip.esptk(*command).out.splitlines() == theirs.splitlines(), command


def virt(chip: Chip) -> tuple[str, ...]:
    return ("--virt", "--chip", "esp32", "--path-efuse-file", str(chip.path))


def test_summary_agrees_on_a_fresh_chip(chip: Chip) -> None:
    ours = chip.summary()
    theirs = espefuse_json(*virt(chip))
    assert assert_same(ours, theirs) == 48
    assert "invalid" not in ours["MAC"]["value"]
    wrapped = chip.esptk("summary", "--json")  # esptk's own JSON envelope carries the same fields
    assert assert_same(json.loads(wrapped.out)["efuses"], theirs) == 48


def test_burns_by_esptk_read_back_by_espefuse(chip: Chip, tmp_path: Path) -> None:
    key = tmp_path / "key.bin"
    key.write_bytes(KEY)
    steps = [("burn-custom-mac", "AA:CD:EF:11:22:33"), ("burn-key", "flash_encryption", str(key)),
             ("burn", "FLASH_CRYPT_CONFIG", "0xf", "FLASH_CRYPT_CNT", "1"), ("write-protect", "FLASH_CRYPT_CNT"),
             ("burn-bit", "BLOCK2", "0", "255"), ("set-flash-voltage", "3.3V")]
    for step in steps:
        r = chip.esptk(*step, "--do-not-confirm")
        assert r.code == 0, (step, r.err)
        assert_same(chip.summary(), espefuse_json(*virt(chip)))
        assert_same_text(chip)
    theirs = espefuse_json(*virt(chip))
    assert theirs["CUSTOM_MAC"]["value"] == "aa:cd:ef:11:22:33 (CRC 0x63 OK)"
    assert theirs["BLOCK1"]["readable"] is False and theirs["FLASH_CRYPT_CNT"]["writeable"] is False


def test_burns_by_espefuse_read_back_by_esptk(chip: Chip, tmp_path: Path) -> None:
    chip.summary()  # esptk creates the file with the chip's factory BLOCK0
    key = tmp_path / "key.bin"
    key.write_bytes(KEY)
    for step in (("burn-custom-mac", "48:63:92:15:72:16"), ("burn-key", "secure_boot_v2", str(key)),
                 ("burn-efuse", "JTAG_DISABLE", "1", "ABS_DONE_1", "1"), ("read-protect-efuse", "BLOCK3")):
        run_espefuse(*virt(chip), "--do-not-confirm", *step)
        assert_same(chip.summary(), espefuse_json(*virt(chip)))
    ours = chip.summary()
    assert ours["BLOCK2"]["value"] == " ".join(f"{b:02x}" for b in KEY) and ours["BLOCK2"]["writeable"] is False
    assert ours["JTAG_DISABLE"]["value"] is True and ours["BLOCK3"]["readable"] is False


REFUSED = [
    (("burn-custom-mac", "AB:CD:EF:11:22:33"), ("burn-custom-mac", "AB:CD:EF:11:22:33")),
    (("burn", "JTAG_DISABLE", "2"), ("burn-efuse", "JTAG_DISABLE", "2")),
    (("burn", "CLK8M_FREQ", "0x40"), ("burn-efuse", "CLK8M_FREQ", "0x40")),
    (("burn", "MAC", "00:11:22:33:44:55"), ("burn-efuse", "MAC", "00:11:22:33:44:55")),
    (("burn", "ADC_VREF", "1"), ("burn-efuse", "ADC_VREF", "1")),
    (("burn", "WAFER_VERSION_MAJOR", "1"), ("burn-efuse", "WAFER_VERSION_MAJOR", "1")),
    (("burn-bit", "BLOCK0", "224"), ("burn-bit", "BLOCK0", "224")),
    (("burn-key", "BLOCK2", "SHORTKEY"), ("burn-key", "BLOCK2", "SHORTKEY")),
    (("burn", "SPI_PAD_CONFIG_CLK", "30"), ("burn-efuse", "SPI_PAD_CONFIG_CLK", "30")),
]


@pytest.mark.parametrize(("ours", "theirs"), REFUSED, ids=[r[1][0] + ":" + r[1][1] for r in REFUSED])
def test_refusals_agree(chip: Chip, tmp_path: Path, ours: tuple[str, ...], theirs: tuple[str, ...]) -> None:
    short = tmp_path / "short.bin"
    short.write_bytes(KEY[:16])
    before = chip.summary()
    fix = {"SHORTKEY": str(short)}
    r = chip.esptk(*(fix.get(a, a) for a in ours), "--do-not-confirm")
    assert r.code != 0 and "Traceback" not in r.err
    e = run_espefuse(*virt(chip), "--do-not-confirm", *(fix.get(a, a) for a in theirs), check=False)
    assert e.returncode != 0
    assert_same(chip.summary(), before)


def test_protected_and_three_four_refusals_agree(chip: Chip, tmp_path: Path) -> None:
    data = tmp_path / "d.bin"
    assert chip.esptk("burn", "CODING_SCHEME", "1", "--do-not-confirm").code == 0
    assert chip.esptk("write-protect", "JTAG_DISABLE", "--do-not-confirm").code == 0
    data.write_bytes(bytes([1]) + bytes(23))
    assert chip.esptk("burn-block-data", "BLOCK3", str(data), "--do-not-confirm").code == 0
    before = chip.summary()
    assert_same(before, espefuse_json(*virt(chip)))
    assert_same_text(chip)
    data.write_bytes(bytes([3]) + bytes(23))
    for ours, theirs in ((("burn", "JTAG_DISABLE", "1"), ("burn-efuse", "JTAG_DISABLE", "1")),
                         (("burn-block-data", "BLOCK3", str(data)), ("burn-block-data", "BLOCK3", str(data)))):
        assert chip.esptk(*ours, "--do-not-confirm").code != 0
        assert run_espefuse(*virt(chip), "--do-not-confirm", *theirs, check=False).returncode != 0
    assert_same(chip.summary(), before)


# --- espefuse over TCP against `esptk sim serve --efuse-file` --------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    efuses = tmp_path / "efuse.bin"
    srv = start_server("esp32", "tcp", tmp_path / "flash.bin", "--efuse-file", str(efuses))
    try:
        yield srv, efuses
    finally:
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=10)


def test_espefuse_on_the_served_chip_and_esptk_agree(server: tuple[Server, Path], tmp_path: Path,
                                                     chip: Chip) -> None:
    srv, efuses = server
    port = ("--port", srv.endpoint, "--chip", "esp32", "--before", "no-reset")
    ours_over_tcp = chip._cli("-q", "-p", srv.endpoint, "--before", "no_reset", "efuse", "summary", "--format",
                              "json")
    assert ours_over_tcp.code == 0, ours_over_tcp.err
    assert_same(json.loads(ours_over_tcp.out), espefuse_json(*port))
    key = tmp_path / "key.bin"
    key.write_bytes(KEY)
    run_espefuse(*port, "--do-not-confirm", "burn-custom-mac", "AA:CD:EF:01:02:03")
    run_espefuse(*port, "--do-not-confirm", "burn-key", "flash_encryption", str(key))
    run_espefuse(*port, "--do-not-confirm", "write-protect-efuse", "MAC_VERSION")
    after = chip._cli("-q", "-p", srv.endpoint, "--before", "no_reset", "efuse", "summary", "--format", "json")
    ours = json.loads(after.out)
    assert ours["CUSTOM_MAC"]["value"] == "aa:cd:ef:01:02:03 (CRC 0x56 OK)"
    assert ours["BLOCK1"]["readable"] is False and ours["MAC_VERSION"]["writeable"] is False
    assert_same(ours, espefuse_json(*port))
    # the served chip's file is the same state for espefuse --virt
    assert_same(ours, espefuse_json("--virt", "--chip", "esp32", "--path-efuse-file", str(efuses)))


def test_burn_key_digest_matches_espsecure_and_espefuse(chip: Chip, tmp_path: Path,
                                                         cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=3072).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    key = tmp_path / "sb.pem"
    key.write_bytes(pem)
    subprocess.run([sys.executable, "-m", "espsecure", "digest-sbv2-public-key", "--keyfile", str(key), "--output",
                    str(tmp_path / "digest.bin")], check=True, capture_output=True, timeout=120)
    digest = (tmp_path / "digest.bin").read_bytes()
    assert chip.esptk("burn-key-digest", str(key), "--do-not-confirm").code == 0
    ours = chip.summary()
    assert ours["BLOCK2"]["value"] == " ".join(f"{b:02x}" for b in digest) and ours["BLOCK2"]["writeable"] is False
    other = Chip(tmp_path / "other.bin", cli, monkeypatch)
    other.summary()
    run_espefuse(*virt(other), "--do-not-confirm", "burn-key-digest", str(key))
    assert_same(ours, other.summary())


def test_espefuse_three_four_burns_decode_on_the_served_chip(server: tuple[Server, Path], tmp_path: Path,
                                                             chip: Chip) -> None:
    """espefuse's 3/4 encoder and the virtual controller's decoder agree (no DEC_STATUS bits)."""
    srv, _efuses = server
    port = ("--port", srv.endpoint, "--chip", "esp32", "--before", "no-reset")
    run_espefuse(*port, "--do-not-confirm", "burn-efuse", "CODING_SCHEME", "1")
    key = tmp_path / "key24.bin"
    key.write_bytes(bytes(range(0x30, 0x48)))
    run_espefuse(*port, "--do-not-confirm", "burn-key", "BLOCK3", str(key), "--no-protect-key")
    ours = chip._cli("-q", "-p", srv.endpoint, "--before", "no_reset", "efuse", "summary", "--format", "json")
    fields = json.loads(ours.out)
    assert fields["BLOCK3"]["value"] == " ".join(f"{b:02x}" for b in range(0x30, 0x48))
    check = chip._cli("-q", "-p", srv.endpoint, "--before", "no_reset", "efuse", "check-error")
    assert check.code == 0, check.err
    assert_same(fields, espefuse_json(*port))


def test_special_value_classes_agree(chip: Chip) -> None:
    """ADC two-point values, SPI pad GPIO numbers and secure-version bit counts read the same."""
    r = chip.esptk("burn", "BLK3_PART_RESERVE", "1", "ADC1_TP_LOW", "0x41", "ADC1_TP_HIGH", "0x101",
                   "ADC2_TP_LOW", "0x3", "ADC2_TP_HIGH", "0x1ff", "SPI_PAD_CONFIG_CLK", "33", "SPI_PAD_CONFIG_Q", "7",
                   "--do-not-confirm")
    assert r.code == 0, r.err
    assert chip.esptk("burn", "SECURE_VERSION", "--do-not-confirm").code == 0  # the next unset bit
    assert chip.esptk("burn", "SECURE_VERSION", "--do-not-confirm").code == 0
    ours = chip.summary()
    assert (ours["ADC1_TP_LOW"]["value"], ours["ADC1_TP_HIGH"]["value"]) == (26, 2245)
    assert ours["SPI_PAD_CONFIG_CLK"]["value"] == 33 and ours["SECURE_VERSION"]["value"] == 3
    assert assert_same(ours, espefuse_json(*virt(chip))) == 52
    assert_same_text(chip)
    adc = chip.esptk("adc-info").out
    assert "ADC1 Low reading  (150mV): 26" in adc and "ADC1 High reading (850mV): 2245" in adc
    for command in ("adc-info", "get-custom-mac"):  # the read commands print the same lines
        theirs_text = run_espefuse(*virt(chip), command).stdout
        assert chip.esptk(command).out.splitlines() == theirs_text.split("command ===\n", 1)[1].splitlines()
    assert chip.esptk("burn-custom-mac", "02:00:00:00:00:01", "--do-not-confirm").code == 0
    theirs_text = run_espefuse(*virt(chip), "get-custom-mac").stdout
    assert chip.esptk("get-custom-mac").out.splitlines() == theirs_text.split("command ===\n", 1)[1].splitlines()
