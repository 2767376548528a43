"""Commands that write, verify, read and erase flash."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from ..chip import parse_size
from ..errors import FlashError, UsageError, VerifyError
from ..fileio import read_file, write_atomic
from ..spiflash import size_name
from . import checks, console, state
from .connect import session, state_of

if TYPE_CHECKING:
    from ..flasher import Region
    from ..session import Session

FlashMode = Annotated[str, typer.Option("--flash-mode", "-fm", envvar=["ESPTK_FM", "ESPTOOL_FM"],
                                        help="qio, qout, dio, dout or keep.")]
FlashFreq = Annotated[str, typer.Option("--flash-freq", "-ff", envvar=["ESPTK_FF", "ESPTOOL_FF"],
                                        help="80m, 40m, 26m, 20m or keep.")]
FlashSize = Annotated[str, typer.Option("--flash-size", "-fs", envvar=["ESPTK_FS", "ESPTOOL_FS"],
                                        help="e.g. 4MB, keep or detect.")]
NoProgress = Annotated[bool, typer.Option("--no-progress", "-p", help="No progress bars.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the results.")]


Force = Annotated[bool, typer.Option("--force", help="Override the secure boot / flash encryption safety checks; "
                                     "write-flash: also erase data outside a file that does not start a sector.")]


def register(app: typer.Typer) -> None:
    from .multi import SpreadAllCommand

    app.command("write-flash", cls=SpreadAllCommand)(write_flash_cmd)
    for name, fn in (("verify-flash", verify_flash_cmd),
                     ("read-flash", read_flash_cmd), ("erase-flash", erase_flash_cmd),
                     ("erase-region", erase_region_cmd)):
        app.command(name)(fn)


def parse_pairs(args: list[str]) -> list[Region]:
    from ..flasher import Region

    if not args or len(args) % 2:
        raise UsageError("expected ADDRESS FILE pairs", hint="e.g. write-flash 0x1000 bootloader.bin 0x10000 app.bin")
    regions = []
    for i in range(0, len(args), 2):
        addr, name = checks.u32(args[i], "address"), args[i + 1]
        data = read_file(name)
        regions.extend(hex_regions(data, name) or [Region(addr, data, name)])
    return regions


def hex_regions(data: bytes, name: str) -> list[Region] | None:
    """An Intel HEX file (told by its content) as one region per contiguous run at the addresses
    stored in it (the address given with it is not used, as with esptool); None for other files."""
    from ..flasher import Region
    from ..image.ihex import HexError, looks_like_hex, read_hex

    if not looks_like_hex(data):
        return None
    try:
        runs = read_hex(data)
    except HexError:
        return None
    return [Region(a, d, f"{name}@0x{a:x}") for a, d in runs] or None


def _check_before_connecting(ctx: typer.Context, regions: list[Region], mode: str, freq: str, size: str) -> None:
    """What can be refused without the chip: option values, alignment, overlaps, sizes."""
    from ..flasher import check_regions

    st = state_of(ctx)
    checks.flash_param(st, mode, "--flash-mode", "flash_mode_codes")
    checks.flash_param(st, freq, "--flash-freq", "flash_freq_codes")
    checks.flash_param(st, size, "--flash-size", "flash_size_codes", ("keep", "detect"))
    check_regions(regions, checks.largest_flash(st))


def _patch(s: Session, regions: list[Region], mode: str, freq: str, size: str) -> list[Region]:
    from ..flasher import patch_regions

    return patch_regions(s, regions, mode, freq, size)


def _flash_size(s: Session, size: str) -> int | None:
    if size in ("keep", "detect"):
        return None
    return parse_size(size)


def write_flash_cmd(
    ctx: typer.Context,
    pairs: Annotated[list[str] | None, typer.Argument(help="ADDRESS FILE pairs.", metavar="ADDRESS FILE ...")] = None,
    flash_mode: FlashMode = "keep", flash_freq: FlashFreq = "keep", flash_size: FlashSize = "keep",
    erase_all: Annotated[bool, typer.Option("--erase-all", "-e", help="Erase all flash first.")] = False,
    compress: Annotated[bool, typer.Option("--compress", "-z", help="Compress (default with the stub).")] = False,
    no_compress: Annotated[bool, typer.Option("--no-compress", "-u", help="Do not compress.")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Verify again after writing, separately (deprecated: "
                                         "every write is verified; esptool 5 refuses it).")] = False,
    spi_connection: Annotated[str | None, typer.Option(
        "--spi-connection", "-sc", help="Flash pins: SPI, HSPI or CLK,Q,D,HD,CS (ESP32).")] = None,
    skip_flashed: Annotated[bool, typer.Option(
        "--skip-flashed", "-s", help="Skip files whose bytes are in flash already (MD5).")] = False,
    diff_with: Annotated[list[str] | None, typer.Option(
        "--diff-with", help="Files flashed before, one per pair ('skip' for none): write changed sectors only.",
    )] = None,
    trust_flash_content: Annotated[bool, typer.Option(
        "--trust-flash-content", help="With --diff-with: do not check that flash holds the old files.")] = False,
    no_skip: Annotated[bool, typer.Option(
        "--no-skip", help="Write every sector, even those the flash already holds (found by the chip's MD5).",
    )] = False,
    no_progress: NoProgress = False, as_json: JsonOpt = False,
    encrypt: Annotated[bool, typer.Option("--encrypt", help="Write every file through the chip's flash "
                                          "encryption (stub only).")] = False,
    encrypt_files: Annotated[list[str] | None, typer.Option(
        "--encrypt-files", metavar="ADDRESS FILE ...", help="Only these files are written encrypted.")] = None,
    ignore_flash_enc_efuse: Annotated[bool, typer.Option(
        "--ignore-flash-enc-efuse", help="Write encrypted even if the eFuse key or settings look wrong.")] = False,
    force: Force = False,
) -> None:
    """Write files to flash, each at its address, and verify each region (MD5 or read-back).

    Sectors whose content is already right are not written again (the chip hashes its flash), so a
    rewrite after a small change, or after an interrupted write, sends only what differs."""
    from ..flasher import verify_flash, warn_if_beyond_chip, write_flash
    from ..security_checks import check_erase, check_write, exclusive
    from . import write_options as wo

    if compress and no_compress:
        raise UsageError("--compress and --no-compress exclude each other")
    if skip_flashed and (diff_with or trust_flash_content):
        raise UsageError("--skip-flashed excludes --diff-with and --trust-flash-content")
    if trust_flash_content and not diff_with:
        raise UsageError("--trust-flash-content only works with --diff-with", hint="add --diff-with OLD_FILE ...")
    exclusive(encrypt, encrypt_files or [])
    if verify and not state_of(ctx).quiet and not state_of(ctx).json:
        console.info("note: --verify is implied (every region is verified after writing) and esptool 5 no longer "
                     "accepts it; esptk checks the regions once more")
    pins = wo.parse_spi_connection(spi_connection) if spi_connection is not None else None
    regions = [] if encrypt_files and not pairs else [replace(r, encrypt=encrypt) for r in parse_pairs(pairs or [])]
    regions += [replace(r, encrypt=True) for r in parse_pairs(encrypt_files)] if encrypt_files else []
    _check_before_connecting(ctx, regions, flash_mode, flash_freq, flash_size)
    if not no_compress:  # compress while connecting
        from ..packing import prefetch

        prefetch([r.data for r in regions if not r.encrypt])
    with session(ctx, no_progress=no_progress) as s:
        if pins is not None:
            wo.attach_pins(s, pins)
        secured = check_write(s, regions, force=force, ignore_flash_enc_efuse=ignore_flash_enc_efuse)
        for w in secured.warnings:
            console.warn(w)
        if erase_all:
            check_erase(s, force)
        regions = secured.regions
        if secured.patch_headers:
            regions = _patch(s, regions, flash_mode, flash_freq, flash_size)
        elif (flash_mode, flash_freq, flash_size) != ("keep", "keep", "keep"):
            console.warn("secure boot is on: the flash settings in the image headers are left as they are")
        given = _flash_size(s, flash_size)
        if given is not None:
            warn_if_beyond_chip(s, given)
        # esptool's --skip-flashed / --diff-with act on plaintext files only (encrypted ones are written)
        todo: list[Region] = [r for r in regions if not r.encrypt]
        partial: list[Region] = []
        if skip_flashed:
            todo = wo.skip_flashed(s, todo)
        elif diff_with:
            todo, partial = wo.diff_with(s, todo, diff_with, trust_flash_content)
        todo += [r for r in regions if r.encrypt]
        results = write_flash(s, todo, compress=True if compress else (False if no_compress else None),
                              erase_all=erase_all, flash_size=given, skip=not no_skip,
                              force=force or state.PROG["name"] == "esptool")  # esptool: note, then erase
        again = [r for r in regions if not r.encrypt] if verify else partial
        checked = verify_flash(s, again) if again else []
    bad = [c for c in checked if not c["ok"]]
    if bad:
        raise VerifyError(f"verification failed at 0x{bad[0]['address']:08x}")
    if as_json or state_of(ctx).json:
        console.out_json({"chip": s.chip.name, "regions": [r.as_dict() for r in results]})
    unverified = [r for r in results if not r.verified]
    if unverified:
        console.warn(f"{len(unverified)} region(s) written but not verified: {unverified[0].how}")
    elif not state_of(ctx).quiet:
        console.info("All regions written and verified" + (" (and verified again)" if verify else ""))


def verify_flash_cmd(
    ctx: typer.Context,
    pairs: Annotated[list[str], typer.Argument(metavar="ADDRESS FILE ...")],
    diff: Annotated[bool, typer.Option("--diff", help="Show the differing offsets.")] = False,
    flash_mode: FlashMode = "keep", flash_freq: FlashFreq = "keep", flash_size: FlashSize = "keep",
    as_json: JsonOpt = False,
) -> None:
    """Check that flash holds the given files."""
    from ..flasher import verify_flash

    regions = parse_pairs(pairs)
    _check_before_connecting(ctx, regions, flash_mode, flash_freq, flash_size)
    with session(ctx) as s:
        regions = _patch(s, regions, flash_mode, flash_freq, flash_size)
        results = verify_flash(s, regions, diff=diff)
    if as_json or state_of(ctx).json:
        console.out_json({"chip": s.chip.name, "regions": results})
    else:
        for r in results:
            status = "OK" if r["ok"] else "DIFFERS"
            console.out(f"0x{r['address']:08x} {r['name']}: {status}")
            if not r["ok"] and diff:
                offsets = r["offsets"]
                assert isinstance(offsets, list)
                console.out(f"  {r['differences']} bytes differ: " + " ".join(f"0x{o:08x}" for o in offsets[:32]))
    bad = [r for r in results if not r["ok"]]
    if bad:
        raise VerifyError(f"{len(bad)} of {len(results)} regions differ from flash")


def read_flash_cmd(
    ctx: typer.Context, address: str, size: str, filename: str,
    flash_size: Annotated[str, typer.Option("--flash-size", "-fs", envvar=["ESPTK_FS", "ESPTOOL_FS"],
                                            help="Flash size (e.g. 4MB) instead of detecting it.")] = "detect",
    no_progress: NoProgress = False, as_json: JsonOpt = False,
) -> None:
    """Read SIZE bytes (or ALL) of flash at ADDRESS into FILENAME (checked by the chip's MD5)."""
    from ..flasher import detect_flash_size, prepare, read_flash

    st = state_of(ctx)
    addr = checks.u32(address, "address")
    whole = size.strip().upper() == "ALL"
    n = 0 if whole else checks.size(size)
    checks.flash_span(st, addr, max(n, 1), "read")
    checks.output_path(filename)
    with session(ctx, no_progress=no_progress) as s:
        total = prepare(s, _flash_size(s, flash_size))
        if whole:  # up to the detected size, whatever --flash-size says (as esptool)
            detected = total if flash_size == "detect" else detect_flash_size(s)[1]
            n, total = detected - addr, max(total, detected)
        if addr >= total or addr + n > total:
            where = f"address 0x{addr:x}" if whole else f"0x{addr:x}+0x{n:x}"
            raise UsageError(f"{where} is past the end of the {size_name(total)} flash",
                             hint="check the address and the size against the flash size")
        t0 = time.monotonic()
        data = read_flash(s, addr, n)
        seconds = time.monotonic() - t0
        rate = n * 8 / seconds / 1000 if seconds > 0 else 0.0
        from . import esptool_log

        if esptool_log.active(st.log_format, ctx.info_name, as_json or st.json):  # before "Leaving...", as esptool
            esptool_log.line(f"Read {n} bytes from 0x{addr:08x} in {seconds:.1f} seconds ({rate:.1f} kbit/s) "
                             f"to '{filename}'.")
    write_atomic(filename, data)
    if as_json or state_of(ctx).json:
        import hashlib

        console.out_json({"address": addr, "size": n, "file": filename, "md5": hashlib.md5(data).hexdigest(),
                          "seconds": round(seconds, 3)})
        return
    if not st.quiet:
        console.info(f"Read {n} bytes at 0x{addr:08x} in {seconds:.1f} s ({rate:.0f} kbit/s) into {filename}")


def erase_flash_cmd(ctx: typer.Context, as_json: JsonOpt = False, force: Force = False) -> None:
    """Erase the whole flash (needs the stub)."""
    from ..flasher import erase_flash
    from ..security_checks import check_erase

    with session(ctx) as s:
        check_erase(s, force)
        erase_flash(s)
    if as_json or state_of(ctx).json:
        console.out_json({"chip": s.chip.name, "erased": "all"})
    console.info("Flash erased")


def erase_region_cmd(ctx: typer.Context, address: str, size: str, as_json: JsonOpt = False,
                     force: Force = False) -> None:
    """Erase SIZE bytes at ADDRESS (both multiples of 4 KiB)."""
    from ..flasher import STUB_HINT, erase_region
    from ..security_checks import check_erase

    addr, n = checks.u32(address, "address"), checks.size(size)
    checks.erase_span(addr, n)
    checks.flash_span(state_of(ctx), addr, n, "erase region")
    with session(ctx) as s:
        check_erase(s, force)
        verified = erase_region(s, addr, n)
    if not verified:
        raise FlashError(f"erased 0x{addr:08x}+0x{n:x} but could not verify it (no MD5 on this loader)",
                         hint=STUB_HINT)
    if as_json or state_of(ctx).json:
        console.out_json({"chip": s.chip.name, "address": addr, "size": n, "verified": verified})
    console.info(f"Erased and verified 0x{addr:08x}+0x{n:x}")
