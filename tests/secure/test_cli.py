"""``esptk secure``: espsecure's spellings, chip choice, JSON, and refusals that leave files alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esptk.errors import SecurityError


def test_hook_esptk_security(registry) -> None:  # type: ignore[no-untyped-def]
    esp32 = registry.chip_hook(registry.chip("esp32")).esptk_security(chip=registry.chip("esp32"))
    assert esp32 is not None and tuple(esp32.secure_boot_versions) == (1, 2)
    assert tuple(esp32.secure_boot_for_revision(300)) == (1, 2)
    assert tuple(esp32.secure_boot_for_revision(100)) == (1,)
    assert registry.chip_hook(registry.chip("esp8266")).esptk_security(chip=registry.chip("esp8266")) is None
    with pytest.raises(SecurityError, match="versions 1 and 2"):
        esp32.sign(3, b"data", [])


def test_a_chip_without_security_features_says_so(tmp_path: Path, cli) -> None:
    r = cli("--chip", "esp8266", "secure", "generate-flash-encryption-key", str(tmp_path / "k.bin"))
    assert r.code == 1 and "no secure boot or flash encryption" in r.err
    assert not (tmp_path / "k.bin").exists()
    r = cli("--chip", "esp32", "secure", "generate-flash-encryption-key", str(tmp_path / "k.bin"))
    assert r.code == 0 and len((tmp_path / "k.bin").read_bytes()) == 32


def test_espsecure_spellings(tmp_path: Path, cli) -> None:
    key, data = tmp_path / "key.bin", tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)))
    assert cli("secure", "generate_flash_encryption_key", "--keylen", "192", str(key)).code == 0
    assert len(key.read_bytes()) == 24
    r = cli("secure", "encrypt_flash_data", "--keyfile", str(key), "--address", "0x1000", "--flash_crypt_conf",
            "0x3", "--output", str(tmp_path / "enc.bin"), str(data))
    assert r.code == 0, r.err
    r = cli("secure", "decrypt-flash-data", "-k", str(key), "-a", "4096", "--flash-crypt-conf", "3", "-o",
            str(tmp_path / "dec.bin"), str(tmp_path / "enc.bin"))
    assert r.code == 0 and (tmp_path / "dec.bin").read_bytes() == data.read_bytes()
    assert (tmp_path / "enc.bin").read_bytes() != data.read_bytes()


def test_json_output(tmp_path: Path, cli) -> None:
    key, data = tmp_path / "key.bin", tmp_path / "data.bin"
    key.write_bytes(bytes(32))
    data.write_bytes(b"\x00" * 40)
    r = cli("--json", "secure", "encrypt-flash-data", "-k", str(key), "-a", "0x20", "-o", str(tmp_path / "o.bin"),
            str(data))
    assert r.code == 0
    doc = json.loads(r.out)
    assert doc["address"] == 0x20 and doc["size"] == 48 and doc["output"].endswith("o.bin")
    assert any("Padding" in n for n in doc["notes"])


def test_keys_are_never_overwritten(tmp_path: Path, cli) -> None:
    for args in (("generate-flash-encryption-key",), ("generate-signing-key", "--version", "1")):
        path = tmp_path / "existing"
        path.write_bytes(b"precious")
        r = cli("secure", *args, str(path))
        assert r.code == 2 and "already exists" in r.err
        assert path.read_bytes() == b"precious"


def test_generated_keys_are_pem_of_the_right_kind(tmp_path: Path, cli) -> None:
    assert cli("secure", "generate-signing-key", "-v", "1", str(tmp_path / "v1.pem")).code == 0
    assert (tmp_path / "v1.pem").read_text().startswith("-----BEGIN EC PRIVATE KEY-----")
    r = cli("secure", "generate-signing-key", "-v", "1", "--scheme", "rsa3072", str(tmp_path / "x.pem"))
    assert r.code == 1 and not (tmp_path / "x.pem").exists()
    r = cli("secure", "generate-signing-key", "-v", "2", "--scheme", "ecdsa256", str(tmp_path / "x.pem"))
    assert r.code == 1 and "rsa3072" in r.err and not (tmp_path / "x.pem").exists()


def test_output_naming_an_input_is_refused_and_the_file_is_unchanged(tmp_path: Path, cli) -> None:
    key, data = tmp_path / "key.bin", tmp_path / "data.bin"
    key.write_bytes(bytes(32))
    data.write_bytes(b"\x55" * 64)
    for out in (data, key):
        r = cli("secure", "encrypt-flash-data", "-k", str(key), "-a", "0", "-o", str(out), str(data))
        assert r.code == 2 and "also an input" in r.err
    assert data.read_bytes() == b"\x55" * 64 and key.read_bytes() == bytes(32)
    r = cli("secure", "sign-data", "-v", "1", "-k", str(key), "-o", str(data), str(data))
    assert r.code == 2 and data.read_bytes() == b"\x55" * 64


@pytest.mark.parametrize(("args", "code", "text"), [
    (("encrypt-flash-data", "-a", "0x1008"), 2, "multiple of 16"),
    (("encrypt-flash-data", "-a", "0x1000", "--aes-xts"), 1, "AES-XTS"),
    (("encrypt-flash-data", "-a", "0x1000", "--flash-crypt-conf", "0x10"), 1, "4-bit"),
    (("encrypt-flash-data", "-a", "zz"), 2, "not a number"),
])
def test_bad_flash_data_arguments(tmp_path: Path, cli, args: tuple[str, ...], code: int, text: str) -> None:
    (tmp_path / "key.bin").write_bytes(bytes(32))
    (tmp_path / "d.bin").write_bytes(bytes(64))
    r = cli("secure", *args, "-k", str(tmp_path / "key.bin"), "-o", str(tmp_path / "o.bin"), str(tmp_path / "d.bin"))
    assert r.code == code and text in r.err and "Traceback" not in r.err
    assert not (tmp_path / "o.bin").exists()


def test_unusable_keys_give_one_line_errors(tmp_path: Path, cli) -> None:
    (tmp_path / "bad.pem").write_text("-----BEGIN EC PRIVATE KEY-----\nnonsense\n-----END EC PRIVATE KEY-----\n")
    (tmp_path / "d.bin").write_bytes(b"x" * 100)
    out = ("-o", str(tmp_path / "o.bin"))
    for args in (("sign-data", "-v", "1", *out), ("sign-data", "-v", "2", *out), ("verify-signature", "-v", "1")):
        r = cli("secure", *args, "-k", str(tmp_path / "bad.pem"), str(tmp_path / "d.bin"))
        assert r.code == 1 and "PEM" in r.err and "internal error" not in r.err
    assert not (tmp_path / "o.bin").exists()
    r = cli("secure", "encrypt-flash-data", "-k", str(tmp_path / "d.bin"), "-a", "0", "-o", str(tmp_path / "o.bin"),
            str(tmp_path / "d.bin"))
    assert r.code == 2 and "100 bytes" in r.err


def test_v1_key_for_v2_and_v2_key_for_v1_are_refused(tmp_path: Path, cli) -> None:
    assert cli("secure", "generate-signing-key", "-v", "1", str(tmp_path / "ec.pem")).code == 0
    (tmp_path / "d.bin").write_bytes(b"y" * 4096)
    r = cli("secure", "sign-data", "-v", "2", "-k", str(tmp_path / "ec.pem"), "-o", str(tmp_path / "o.bin"),
            str(tmp_path / "d.bin"))
    assert r.code == 1 and "RSA-3072" in r.err and not (tmp_path / "o.bin").exists()


def test_unsigned_data_has_no_signature_info(tmp_path: Path, cli) -> None:
    (tmp_path / "d.bin").write_bytes(b"\xff" * 8192)
    r = cli("secure", "signature-info-v2", str(tmp_path / "d.bin"))
    assert r.code == 0 and "absent or invalid" in r.out
    (tmp_path / "odd.bin").write_bytes(b"\xff" * 5000)
    r = cli("secure", "signature-info-v2", str(tmp_path / "odd.bin"))
    assert r.code == 1 and "multiple of 4096" in r.err


def test_missing_input_file(tmp_path: Path, cli) -> None:
    r = cli("secure", "signature-info-v2", str(tmp_path / "nope.bin"))
    assert r.code == 2 and "does not exist" in r.err
