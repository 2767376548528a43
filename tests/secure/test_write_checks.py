"""write-flash --encrypt and the secure boot / flash encryption safety checks (SECURITY.md §6)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from esptk_esp32.secure import ESP32Security
from esptk_esp32.sim import efuse_words
from esptk_esp32.spec import APB_CTL_DATE, EFUSE_BASE

from .conftest import espsecure

MAC = bytes.fromhex("240ac4123456")


class Words:
    """eFuse read registers of a v3.0 chip (as the virtual chip has them), with bits changed."""

    def __init__(self, revision3: bool = True, **changes: tuple[int, int]) -> None:
        self.regs = {**efuse_words(MAC), APB_CTL_DATE: (1 << 31) if revision3 else 0}
        for _name, (word, bits) in changes.items():
            self.regs[EFUSE_BASE + 4 * word] = self.regs.get(EFUSE_BASE + 4 * word, 0) | bits

    def read_reg(self, addr: int) -> int:
        return self.regs.get(addr, 0)

    def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF, delay_us: int = 0) -> None:
        raise AssertionError("the checks only read eFuses")


@pytest.mark.parametrize(("crypt_cnt", "on"), [(0, False), (0b1, True), (0b11, False), (0b111, True),
                                                (0b1111111, True), (0b0101010, True), (0b1100000, False)])
def test_flash_encryption_is_on_for_an_odd_count(crypt_cnt: int, on: bool) -> None:
    assert ESP32Security().read_state(Words(cnt=(0, crypt_cnt << 20))).flash_encryption is on


def test_secure_boot_v2_counts_from_revision_3() -> None:
    sc = ESP32Security()
    v2 = sc.read_state(Words(abs1=(6, 1 << 5)))
    assert v2.secure_boot and not v2.secure_boot_v1
    assert not sc.read_state(Words(revision3=False, abs1=(6, 1 << 5))).secure_boot
    v1 = sc.read_state(Words(abs0=(6, 1 << 4)))
    assert v1.secure_boot and v1.secure_boot_v1
    assert not sc.read_state(Words()).secure_boot


def test_crypt_config_and_key_reading() -> None:
    sc = ESP32Security()
    assert sc.read_state(Words()).crypt_config == 0
    assert sc.read_state(Words(conf=(5, 0xA << 28))).crypt_config == 0xA
    assert sc.read_state(Words(rd_dis3=(0, 1 << 19))).crypt_config == 0xF  # unreadable: assumed 0xF
    assert sc.read_state(Words(dl=(6, 1 << 7))).download_encrypt_disabled
    assert not sc.flash_key_valid(Words())
    assert sc.flash_key_valid(Words(rd_dis0=(0, 1 << 16)))  # read-protected key: assumed present
    key_word = Words()
    key_word.regs[EFUSE_BASE + 0x38 + 4 * 7] = 0x100
    assert sc.flash_key_valid(key_word)


# --- on the virtual chip, as it is today (no eFuses burnt) -----------------------------------------
def _write(cli, *args: str):  # type: ignore[no-untyped-def]
    return cli("--port", "sim://esp32", *args)


def test_encrypted_write_needs_a_key(tmp_path: Path, cli) -> None:
    (tmp_path / "app.bin").write_bytes(b"\x11" * 1000)
    r = _write(cli, "write-flash", "--encrypt", "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 1 and "no flash-encryption key is programmed" in r.err and "0x0, not 0xf" in r.err
    assert "--ignore-flash-enc-efuse" in r.err


def test_encrypted_write_needs_the_stub(tmp_path: Path, cli) -> None:
    (tmp_path / "app.bin").write_bytes(b"\x11" * 64)
    r = cli("--port", "sim://esp32", "--no-stub", "write-flash", "--encrypt", "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 1 and "ROM loader cannot write encrypted" in r.err and "--no-stub" in r.err


def test_a_chip_without_flash_encryption_refuses(tmp_path: Path, cli) -> None:
    (tmp_path / "app.bin").write_bytes(b"\x11" * 64)
    r = cli("--port", "sim://esp8266", "write-flash", "--encrypt", "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 1 and "has no flash encryption" in r.err


def test_encrypt_and_encrypt_files_exclude_each_other(tmp_path: Path, cli) -> None:
    (tmp_path / "app.bin").write_bytes(b"\x11" * 64)
    r = _write(cli, "write-flash", "--encrypt", "0x1000", str(tmp_path / "app.bin"), "--encrypt-files", "0x10000",
               str(tmp_path / "app.bin"))
    assert r.code == 2 and "exclude each other" in r.err and "Connecting" not in r.err


def test_plain_writes_and_erases_pass_on_an_unsecured_chip(tmp_path: Path, cli) -> None:
    (tmp_path / "boot.bin").write_bytes(b"\x22" * 4096)
    assert _write(cli, "write-flash", "0x1000", str(tmp_path / "boot.bin")).code == 0
    assert _write(cli, "erase-region", "0x1000", "0x1000").code == 0


# --- on the virtual chip with burnt eFuses (needs the eFuse model: sim option efuse_file) ----------
def _espefuse(efuse_file: Path, *args: str) -> None:
    res = subprocess.run([sys.executable, "-m", "espefuse", "--chip", "esp32", "--virt", "--path-efuse-file",
                          str(efuse_file), "--do-not-confirm", *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def _sim(tmp: Path) -> str:
    return f"sim://esp32?efuse_file={tmp / 'efuse.bin'}&flash_file={tmp / 'flash.bin'}"


def _on_burnt_chip(cli, tmp: Path, *args: str):  # type: ignore[no-untyped-def]
    r = cli("--port", _sim(tmp), *args)
    if "unknown sim option 'efuse_file'" in r.err:
        pytest.skip("the virtual chip does not model eFuses yet (sim option efuse_file, helper efuse11)")
    return r


@pytest.mark.peer
def test_secure_boot_v1_protects_the_bootloader(tmp_path: Path, cli) -> None:
    _espefuse(tmp_path / "efuse.bin", "burn-efuse", "ABS_DONE_0", "1")
    (tmp_path / "boot.bin").write_bytes(b"\x33" * 4096)
    r = _on_burnt_chip(cli, tmp_path, "write-flash", "0x1000", str(tmp_path / "boot.bin"))
    assert r.code == 1 and "secure boot v1" in r.err and "--force" in r.err
    assert _on_burnt_chip(cli, tmp_path, "write-flash", "0x10000", str(tmp_path / "boot.bin")).code == 0
    r = _on_burnt_chip(cli, tmp_path, "write-flash", "--force", "0x1000", str(tmp_path / "boot.bin"))
    assert r.code == 0, r.err
    r = _on_burnt_chip(cli, tmp_path, "erase-flash")
    assert r.code == 1 and "erasing flash is refused" in r.err
    assert _on_burnt_chip(cli, tmp_path, "erase-region", "--force", "0x10000", "0x1000").code == 0


@pytest.mark.peer
def test_release_mode_flash_encryption_refuses_plaintext_and_encryption(tmp_path: Path, cli) -> None:
    _espefuse(tmp_path / "efuse.bin", "burn-efuse", "FLASH_CRYPT_CNT", "1", "DISABLE_DL_ENCRYPT", "1")
    (tmp_path / "app.bin").write_bytes(b"\x44" * 4096)
    r = _on_burnt_chip(cli, tmp_path, "write-flash", "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 1 and "plaintext" in r.err
    r = _on_burnt_chip(cli, tmp_path, "write-flash", "--encrypt", "0x10000", str(tmp_path / "app.bin"))
    assert r.code == 1 and "may not encrypt" in r.err
    r = _on_burnt_chip(cli, tmp_path, "erase-region", "0x10000", "0x1000")
    assert r.code == 1 and "flash encryption is on" in r.err
    assert _on_burnt_chip(cli, tmp_path, "write-flash", "--force", "0x10000", str(tmp_path / "app.bin")).code == 0


def _burn_key(tmp: Path) -> bytes:
    key = bytes((i * 37 + 11) & 0xFF for i in range(32))
    (tmp / "key.bin").write_bytes(key)
    _espefuse(tmp / "efuse.bin", "burn-key", "flash_encryption", str(tmp / "key.bin"), "--no-protect-key")
    return key


def _expected(tmp: Path, data: bytes, address: int, conf: int) -> bytes:
    """espsecure's encryption of ``data`` padded with 0xFF to the 32-byte unit."""
    (tmp / "padded.bin").write_bytes(data + b"\xff" * (-len(data) % 32))
    res = espsecure("encrypt-flash-data", "-k", tmp / "key.bin", "-a", hex(address), "--flash-crypt-conf", hex(conf),
                    "-o", tmp / "expected.bin", tmp / "padded.bin")
    assert res.code == 0, res.out
    return (tmp / "expected.bin").read_bytes()


def _read_back(cli, tmp: Path, address: int, size: int) -> bytes:  # type: ignore[no-untyped-def]
    r = _on_burnt_chip(cli, tmp, "read-flash", hex(address), str(size), str(tmp / "back.bin"))
    assert r.code == 0, r.err
    return (tmp / "back.bin").read_bytes()


def _skip_without_engine(r) -> None:  # type: ignore[no-untyped-def]
    if "the running stub cannot write through the flash-encryption engine" in r.err:
        pytest.skip("the virtual chip's stub does not advertise encrypted writes (CAP_ENCRYPTED_WRITE) yet")


@pytest.mark.peer
def test_ignore_flash_enc_efuse_writes_with_an_unexpected_tweak_setting(tmp_path: Path, cli) -> None:
    """Key burnt, FLASH_CRYPT_CONFIG left 0: refused, unless --ignore-flash-enc-efuse; then the chip
    encrypts with config 0, as espsecure computes with --flash-crypt-conf 0."""
    _burn_key(tmp_path)
    _espefuse(tmp_path / "efuse.bin", "burn-efuse", "FLASH_CRYPT_CNT", "1")
    data = bytes(range(256)) * 20
    (tmp_path / "app.bin").write_bytes(data)
    r = _on_burnt_chip(cli, tmp_path, "write-flash", "--encrypt", "0x20000", str(tmp_path / "app.bin"))
    assert r.code == 1 and "0x0, not 0xf" in r.err
    r = _on_burnt_chip(cli, tmp_path, "write-flash", "--encrypt", "--ignore-flash-enc-efuse", "0x20000",
                       str(tmp_path / "app.bin"))
    _skip_without_engine(r)
    assert r.code == 0 and "0x0, not 0xf" in r.err and "not verified" in r.err
    assert _read_back(cli, tmp_path, 0x20000, len(data)) == _expected(tmp_path, data, 0x20000, 0)


@pytest.mark.peer
@pytest.mark.parametrize("compress", ["--compress", "--no-compress"])
def test_encrypted_write_leaves_what_espsecure_computes(tmp_path: Path, cli, compress: str) -> None:
    """Key and FLASH_CRYPT_CNT burnt by espefuse; esptk writes through the engine; the flash must hold
    exactly espsecure's encryption of the file (padded with 0xFF to the 32-byte unit)."""
    _burn_key(tmp_path)
    _espefuse(tmp_path / "efuse.bin", "burn-efuse", "FLASH_CRYPT_CNT", "1", "FLASH_CRYPT_CONFIG", "0xF")
    # random-like with a compressible tail, not a multiple of 32: compressed, the chip inflates
    # pieces of any length (not whole 32-byte units) and must still encrypt whole units
    noise = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(4700))
    app = noise + b"\xff" * 49_599
    (tmp_path / "app.bin").write_bytes(app)
    (tmp_path / "plain.bin").write_bytes(b"\x5a" * 5000)
    r = _on_burnt_chip(cli, tmp_path, "write-flash", compress, "0x8000", str(tmp_path / "plain.bin"),
                       "--encrypt-files", "0x10000", str(tmp_path / "app.bin"))
    _skip_without_engine(r)
    assert r.code == 0, r.err
    expected = _expected(tmp_path, app, 0x10000, 0xF)
    assert _read_back(cli, tmp_path, 0x10000, len(expected)) == expected
    assert _read_back(cli, tmp_path, 0x8000, 5000) == b"\x5a" * 5000
