"""``esptk secure``: secure boot signing and digests, flash-encryption keys and data (espsecure's commands).

The chip's plugin does the work (hook ``esptk_security``); with ``--chip auto`` the one installed
chip plugin that answers is used. espsecure's spellings are accepted: underscores in command and
option names, ``digest-rsa-public-key``, ``-k KEY1 KEY2`` after ``sign-data``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import SecurityError, UnsupportedChip, UsageError
from ..fileio import parse_int, read_file, write_atomic
from . import console
from .connect import state_of
from .groups import AliasGroup
from .multi import SpreadCommand

if TYPE_CHECKING:
    from ..security import Result, SecurityScheme

ALIASES = {"digest-rsa-public-key": "digest-sbv2-public-key"}


class SecureGroup(AliasGroup):
    """Finds ``sign_data`` as ``sign-data`` and espsecure's old command names."""

    aliases = ALIASES


secure_app = typer.Typer(
    cls=SecureGroup, no_args_is_help=True, add_completion=False,
    help="Secure boot and flash encryption: keys, signatures, digests, encrypted flash data.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the results.")]
KeyFile = Annotated[str, typer.Option("--keyfile", "-k", help="Key file.")]
Version = Annotated[int, typer.Option("--version", "-v", help="Secure boot version (1 or 2).")]


def register(app: typer.Typer) -> None:
    app.add_typer(secure_app, name="secure")


# --- helpers ---------------------------------------------------------------------------------------
def scheme(ctx: typer.Context) -> SecurityScheme:
    """The chip's scheme: --chip, or the only installed chip plugin that offers one."""
    st = state_of(ctx)
    reg = st.registry
    if st.chip.lower() != "auto":
        chip = reg.chip(st.chip)
        found = reg.chip_hook(chip).esptk_security(chip=chip)
        if found is None:
            raise UnsupportedChip(f"the {chip.description} has no secure boot or flash encryption in esptk",
                                  hint="check --chip")
        return found
    answers = [(name, reg.chip_hook(spec).esptk_security(chip=spec)) for name, spec in sorted(reg.chips.items())]
    offered = [(name, s) for name, s in answers if s is not None]
    if not offered:
        raise UnsupportedChip("no installed chip plugin offers secure boot or flash encryption",
                              hint="install the plugin of your chip (e.g. esptk-esp32)")
    if len(offered) > 1:
        raise UsageError("several chip plugins offer secure boot: " + ", ".join(n for n, _ in offered),
                         hint="name the chip: esptk --chip NAME secure ...")
    return offered[0][1]


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _output(path: str, data: bytes, *inputs: str | None) -> None:
    for given in inputs:
        if given and _same(given, path):
            raise UsageError(f"the output {path} is also an input", hint="write the result to another file")
    write_atomic(path, data)


def _new_file(path: str, data: bytes) -> None:
    if os.path.exists(path):
        raise UsageError(f"{path} already exists", hint="keys are never overwritten: choose another file name")
    write_atomic(path, data)


def _report(ctx: typer.Context, as_json: bool, res: Result, message: str | None, data: bool = False,
            **facts: Any) -> None:
    """JSON on stdout; else the notes (on stdout when they are the command's answer) and a message."""
    st = state_of(ctx)
    if as_json or st.json:
        console.out_json({**facts, **res.facts, "notes": res.notes})
        return
    if st.quiet and not data:
        return
    for note in res.notes:
        (console.out if data else console.info)(note)
    if message:
        console.info(message)


def _version(version: int) -> int:
    if version not in (1, 2):
        raise UsageError(f"secure boot version {version} does not exist", hint="use --version 1 or 2")
    return version


def _address(text: str) -> int:
    return parse_int(text, "address")


# --- commands ----------------------------------------------------------------------------------------
@secure_app.command("digest-secure-bootloader")
def digest_secure_bootloader(
    ctx: typer.Context, image: str, keyfile: KeyFile,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Output file.")] = None,
    iv: Annotated[str | None, typer.Option("--iv", help="IV file (testing only: the IV must be random).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Secure boot v1: the bootloader with its digest in front (IV, digest, image at 0x1000), flashed at 0x0."""
    out = output or f"{os.path.splitext(image)[0]}-digest-0x0000.bin"
    res = scheme(ctx).digest_bootloader(read_file(keyfile, "key file"), read_file(image, "image"),
                                        read_file(iv, "IV file") if iv else None)
    _output(out, res.data, image, keyfile, iv)
    _report(ctx, as_json, res, f"Digest and image written to {out}", output=out, size=len(res.data))


@secure_app.command("generate-signing-key")
def generate_signing_key(
    ctx: typer.Context, keyfile: str, version: Version = 1,
    scheme_name: Annotated[str | None, typer.Option("--scheme", "-s", help="rsa3072 (v2) or ecdsa256 (v1).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a new private signing key (PEM): v1 ECDSA P-256, v2 RSA-3072."""
    res = scheme(ctx).generate_signing_key(_version(version), scheme_name)
    _new_file(keyfile, res.data)
    _report(ctx, as_json, res, f"Wrote a secure boot v{version} signing key to {keyfile}",
            keyfile=keyfile, version=version)


@secure_app.command("sign-data", cls=SpreadCommand)
def sign_data(
    ctx: typer.Context, datafile: str, version: Version,
    keyfile: Annotated[list[str] | None, typer.Option("--keyfile", "-k", help="Private key(s).")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Output (default: in place).")] = None,
    append: Annotated[bool, typer.Option("--append-signatures", "-a", help="Keep valid v2 blocks.")] = False,
    pub_key: Annotated[list[str] | None, typer.Option("--pub-key", help="Public key(s) of --signature.")] = None,
    signature: Annotated[list[str] | None, typer.Option("--signature", help="Pre-computed signature(s).")] = None,
    hsm: Annotated[bool, typer.Option("--hsm", help="Not supported: sign externally.")] = False,
    hsm_config: Annotated[str | None, typer.Option("--hsm-config", hidden=True)] = None,
    skip_padding: Annotated[bool, typer.Option("--skip-padding", help="v2: do not pad to 4 KiB.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Sign a file: v1 appends an ECDSA signature, v2 adds a signature sector (RSA-3072-PSS)."""
    if hsm or hsm_config:
        raise SecurityError("esptk does not drive HSMs", hint="sign with the HSM, then use --pub-key and --signature")
    out = output or datafile
    if output and _same(output, datafile):
        raise UsageError(f"the output {output} is also the input", hint="leave out -o to sign the file in place")
    res = scheme(ctx).sign(
        _version(version), read_file(datafile, "data file"), [read_file(k, "key file") for k in keyfile or []],
        pub_keys=[read_file(k, "public key file") for k in pub_key or []],
        signatures=[read_file(s, "signature file") for s in signature or []],
        append=append, skip_padding=skip_padding)
    write_atomic(out, res.data)
    _report(ctx, as_json, res, f"Signed data written to {out}", output=out, version=version, size=len(res.data))


@secure_app.command("verify-signature")
def verify_signature(
    ctx: typer.Context, datafile: str, version: Version, keyfile: KeyFile,
    skip_padding: Annotated[bool, typer.Option("--skip-padding", help="v2: data not padded to 4 KiB.")] = False,
    hsm: Annotated[bool, typer.Option("--hsm", help="Not supported.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check a signed file against a public (or private) key; exit 1 if it does not verify."""
    if hsm:
        raise SecurityError("esptk does not drive HSMs", hint="give the public key with --keyfile")
    res = scheme(ctx).verify(_version(version), read_file(datafile, "data file"), read_file(keyfile, "key file"),
                             skip_padding=skip_padding)
    _report(ctx, as_json, res, "Signature is valid", file=datafile, version=version)


@secure_app.command("extract-public-key")
def extract_public_key(
    ctx: typer.Context, public_keyfile: str, keyfile: KeyFile, version: Version = 1, as_json: JsonOpt = False,
) -> None:
    """The public key of a signing key: v1 raw 64 bytes (X, Y), v2 PEM."""
    res = scheme(ctx).extract_public_key(_version(version), read_file(keyfile, "key file"))
    _output(public_keyfile, res.data, keyfile)
    _report(ctx, as_json, res, f"Public key written to {public_keyfile}", output=public_keyfile, version=version)


@secure_app.command("digest-sbv2-public-key")
def digest_sbv2_public_key(
    ctx: typer.Context, keyfile: KeyFile,
    output: Annotated[str, typer.Option("--output", "-o", help="Digest file (32 bytes).")],
    as_json: JsonOpt = False,
) -> None:
    """Secure boot v2: the SHA-256 digest of the public key, to burn into eFuse (also digest-rsa-public-key)."""
    res = scheme(ctx).digest_public_key(read_file(keyfile, "key file"))
    _output(output, res.data, keyfile)
    _report(ctx, as_json, res, f"Public key digest written to {output}", output=output)


@secure_app.command("signature-info-v2")
def signature_info_v2(ctx: typer.Context, datafile: str, as_json: JsonOpt = False) -> None:
    """List the secure boot v2 signature blocks of a signed file with their public key digests."""
    res = scheme(ctx).signature_info(read_file(datafile, "data file"))
    _report(ctx, as_json, res, None, data=True, file=datafile)


@secure_app.command("digest-private-key")
def digest_private_key(
    ctx: typer.Context, digest_file: str, keyfile: KeyFile,
    keylen: Annotated[int, typer.Option("--keylen", "-l", help="256, or 192 for 3/4 coding.")] = 256,
    as_json: JsonOpt = False,
) -> None:
    """Secure boot v1 (reflashable): the AES key derived from the signing key (SHA-256 of it)."""
    res = scheme(ctx).digest_private_key(read_file(keyfile, "key file"), keylen)
    _output(digest_file, res.data, keyfile)
    _report(ctx, as_json, res, f"Key digest written to {digest_file}", output=digest_file, bits=keylen)


@secure_app.command("generate-flash-encryption-key")
def generate_flash_encryption_key(
    ctx: typer.Context, key_file: str,
    keylen: Annotated[int | None, typer.Option("--keylen", "-l", help="Bits (default 256).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a random flash-encryption key (raw bytes; for development: keep it secret)."""
    sc = scheme(ctx)
    bits = keylen if keylen is not None else sc.flash_key_bits[0]
    res = sc.generate_flash_key(bits)
    _new_file(key_file, res.data)
    _report(ctx, as_json, res, f"Wrote a {bits}-bit flash-encryption key to {key_file}", keyfile=key_file, bits=bits)


def _crypt(ctx: typer.Context, encrypting: bool, infile: str, keyfile: str, output: str, address: str,
           conf: str | None, aes_xts: bool, as_json: bool) -> None:
    if aes_xts:
        raise SecurityError("AES-XTS flash encryption is for newer chips, not this one",
                            hint="drop --aes-xts (or choose the chip with --chip)")
    sc = scheme(ctx)
    addr = _address(address)
    key, data = read_file(keyfile, "key file"), read_file(infile, "input file")
    crypt_conf = parse_int(conf, "flash crypt config") if conf is not None else None
    fn = sc.encrypt_flash if encrypting else sc.decrypt_flash
    res = fn(key, addr, data, crypt_conf)
    _output(output, res.data, infile, keyfile)
    what = "Encrypted" if encrypting else "Decrypted"
    _report(ctx, as_json, res, f"{what} {len(data)} bytes for 0x{addr:x} into {output}",
            output=output, address=addr, size=len(res.data))


ConfOpt = Annotated[str | None, typer.Option("--flash-crypt-conf", help="FLASH_CRYPT_CONFIG (default 0xF).")]
XtsOpt = Annotated[bool, typer.Option("--aes-xts", "-x", help="Other chips only.")]
AddrOpt = Annotated[str, typer.Option("--address", "-a", help="Flash address of the data.")]
OutOpt = Annotated[str, typer.Option("--output", "-o", help="Output file.")]


@secure_app.command("encrypt-flash-data")
def encrypt_flash_data(
    ctx: typer.Context, plaintext_file: str, keyfile: KeyFile, output: OutOpt, address: AddrOpt,
    flash_crypt_conf: ConfOpt = None, aes_xts: XtsOpt = False, as_json: JsonOpt = False,
) -> None:
    """Encrypt data as the chip's flash-encryption engine would store it at ADDRESS."""
    _crypt(ctx, True, plaintext_file, keyfile, output, address, flash_crypt_conf, aes_xts, as_json)


@secure_app.command("decrypt-flash-data")
def decrypt_flash_data(
    ctx: typer.Context, encrypted_file: str, keyfile: KeyFile, output: OutOpt, address: AddrOpt,
    flash_crypt_conf: ConfOpt = None, aes_xts: XtsOpt = False, as_json: JsonOpt = False,
) -> None:
    """Decrypt data read from encrypted flash at ADDRESS (with the known key)."""
    _crypt(ctx, False, encrypted_file, keyfile, output, address, flash_crypt_conf, aes_xts, as_json)
