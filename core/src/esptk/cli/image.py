"""Offline image commands: ``elf2image``, ``make-image``, ``image-info``, ``merge-bin``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from ..errors import ChipError, EsptkError, ImageError, UsageError
from . import checks, console
from .root import state
from .state import registry, registry_for_chip

if TYPE_CHECKING:
    import typer

    from ..chip import ChipSpec
    from ..image.model import ImageInfo

FM_ENV = ["ESPTK_FM", "ESPTOOL_FM"]
FF_ENV = ["ESPTK_FF", "ESPTOOL_FF"]
FS_ENV = ["ESPTK_FS", "ESPTOOL_FS"]


class InputError(ImageError, UsageError):
    """The input given cannot become the requested output (exit code 2, like esptool)."""


@contextmanager
def _input_errors() -> Iterator[None]:
    try:
        yield
    except ImageError as e:
        if isinstance(e, UsageError):
            raise
        raise InputError(e.message, e.hint) from e
    except ChipError as e:
        raise UsageError(e.message, e.hint) from e


#: flash sizes esptool accepts for merge-bin --pad-to-size (any chip)
FLASH_SIZES = ("256KB", "512KB", "1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB")


def _size(text: str | None, what: str) -> int | None:
    """A size written as <n>KB or <n>MB (esptool's form); None for none or zero."""
    if text is None:
        return None
    import re

    m = re.fullmatch(r"(\d+)(KB|MB)", text.strip())
    if m is None:
        raise UsageError(f"{what} '{text}' is not a size", hint="write it as <number>KB or <number>MB, e.g. 64KB")
    return int(m.group(1)) * (1024 if m.group(2) == "KB" else 1024 * 1024) or None


def _flash_size_bytes(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    if text not in FLASH_SIZES:
        raise UsageError(f"{what} '{text}' is not a flash size", hint="choose one of " + ", ".join(FLASH_SIZES))
    return _size(text, what)


def _chip(ctx: typer.Context, command: str) -> ChipSpec:
    name = state(ctx).chip
    if name == "auto":
        raise UsageError(f"{command} needs to know the chip",
                         hint=f"add --chip, e.g. 'esptk --chip esp32 {command} ...'")
    with _input_errors():
        return registry_for_chip(name).chip(name)


def _flash_choice(chip: ChipSpec, value: str | None, table: dict[str, int], what: str) -> str | None:
    if value is None or value == "keep" or value in table:
        return value
    raise UsageError(f"{what} '{value}' is not valid for {chip.description}", hint="choose one of " + ", ".join(table))


def register(app: typer.Typer) -> None:
    import typer

    globals()["typer"] = typer  # the annotations name typer; typer evaluates them (no import at start-up)
    app.command("elf2image")(elf2image)
    app.command("make-image")(make_image)
    app.command("image-info")(image_info)
    app.command("merge-bin")(merge_bin)


def elf2image(
    ctx: typer.Context,
    input: Annotated[str, typer.Argument(help="ELF file to convert.")],
    output: Annotated[str | None, typer.Option("--output", "-o", help="Output file, or prefix for ESP8266 v1.")] = None,
    version: Annotated[int, typer.Option("--version", "-e", help="ESP8266 image version: 1, 2 or 3.")] = 1,
    min_rev: Annotated[int, typer.Option("--min-rev", "-r", help="Legacy minimum chip revision (major).")] = 0,
    min_rev_full: Annotated[int, typer.Option(help="Minimum chip revision, major*100+minor.")] = 0,
    max_rev_full: Annotated[int, typer.Option(help="Maximum chip revision, major*100+minor.")] = 65535,
    secure_pad: Annotated[bool, typer.Option("--secure-pad", help="Pad for secure boot v1 signing.")] = False,
    secure_pad_v2: Annotated[bool, typer.Option("--secure-pad-v2", help="Pad for secure boot v2 signing.")] = False,
    elf_sha256_offset: Annotated[str | None, typer.Option(help="Image offset for the ELF's SHA-256.")] = None,
    dont_append_digest: Annotated[bool, typer.Option("--dont-append-digest", help="No SHA-256 (ESP32).")] = False,
    use_segments: Annotated[bool, typer.Option("--use-segments", help="Use program headers, not sections.")] = False,
    flash_mmu_page_size: Annotated[str | None, typer.Option(help="MMU page size (ESP32: 64KB only).")] = None,
    pad_to_size: Annotated[str | None, typer.Option("--pad-to-size", "--fill-flash-size",
                                                    help="Pad the image with 0xFF to a multiple of this size.")] = None,
    ram_only_header: Annotated[bool, typer.Option("--ram-only-header",
                                                  help="Header lists RAM segments only (simple boot).")] = False,
    flash_mode: Annotated[str, typer.Option("--flash-mode", "-fm", envvar=FM_ENV, help="qio/qout/dio/dout.")] = "qio",
    flash_freq: Annotated[str, typer.Option("--flash-freq", "-ff", envvar=FF_ENV, help="e.g. 40m, 80m.")] = "40m",
    flash_size: Annotated[str, typer.Option("--flash-size", "-fs", envvar=FS_ENV, help="e.g. 1MB, 4MB.")] = "1MB",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (files written).")] = False,
) -> None:
    """Build a flashable image from an ELF file."""
    from ..image.elf import ElfFile
    from ..image.files import write_files
    from ..image.model import ImageSettings

    chip = _chip(ctx, "elf2image")
    mode = _flash_choice(chip, flash_mode, chip.flash_mode_codes, "flash mode")
    freq = _flash_choice(chip, flash_freq, chip.flash_freq_codes, "flash frequency")
    size = _flash_choice(chip, flash_size, chip.flash_size_codes, "flash size")
    if version not in (1, 2, 3):
        raise UsageError(f"image version {version} does not exist", hint="use --version 1, 2 or 3")
    for value, top, opt in ((min_rev, 0xFF, "--min-rev"), (min_rev_full, 0xFFFF, "--min-rev-full"),
                            (max_rev_full, 0xFFFF, "--max-rev-full")):
        if not 0 <= value <= top:
            raise UsageError(f"{opt} {value} is out of range", hint=f"use 0 to {top}")
    if flash_mmu_page_size not in (None, "64KB", "32KB", "16KB", "8KB"):
        raise UsageError(f"--flash-mmu-page-size '{flash_mmu_page_size}' is not a page size",
                         hint="choose one of 64KB, 32KB, 16KB, 8KB")
    page = _size(flash_mmu_page_size, "--flash-mmu-page-size")
    if page is not None and page != 0x10000:
        console.warn(f"{chip.description} has a fixed 64KB MMU page size; --flash-mmu-page-size is ignored")
    settings = ImageSettings(
        flash_mode=mode or "qio", flash_freq=freq or "40m", flash_size=size or "1MB", version=version,
        min_rev=min_rev, min_rev_full=min_rev_full, max_rev_full=max_rev_full,
        secure_pad=2 if secure_pad_v2 else 1 if secure_pad else 0,
        elf_sha256_offset=None if elf_sha256_offset is None else checks.u32(elf_sha256_offset, "--elf-sha256-offset"),
        append_digest=not dont_append_digest, use_segments=use_segments,
        pad_to_size=_size(pad_to_size, "--pad-to-size"), ram_only_header=ram_only_header,
    )
    with _input_errors():
        elf = ElfFile.load(input)
        files = registry_for_chip(chip.name).chip_hook(chip).esptk_build_image(chip=chip, elf=elf, settings=settings)
    if files is None:
        raise UsageError(f"no plugin builds {chip.description} images", hint="install the chip's esptk plugin")
    for w in elf.warnings:
        console.warn(w)
    items = []
    for f in files:
        if f.prefixed:
            name = (output if output is not None else input + "-") + f.suffix
        else:
            name = output if output is not None else os.path.splitext(input)[0] + f.suffix
        items.append((name, f.data))
    for name, _data in items:
        checks.output_path(name)
    write_files(items)
    _written(ctx, as_json, chip, items)


def make_image(
    ctx: typer.Context,
    output: Annotated[str, typer.Argument(help="Output image file.")],
    segfile: Annotated[list[str], typer.Option("--segfile", "-f", help="Segment file (repeat).")],
    segaddr: Annotated[list[str], typer.Option("--segaddr", "-a", help="Segment load address (repeat).")],
    entrypoint: Annotated[str, typer.Option("--entrypoint", "-e", help="Entry point address.")] = "0",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (file written).")] = False,
) -> None:
    """Build a v1 image (ESP8266) from raw segment files, as esptool 4 did."""
    from ..image.elf import ElfFile
    from ..image.files import read_input, write_files
    from ..image.model import ImageSettings, Segment

    if len(segfile) != len(segaddr):
        raise UsageError("give one --segaddr for each --segfile", hint="e.g. -f text.bin -a 0x40100000")
    reg = registry()
    name = state(ctx).chip
    if name == "auto":
        chips = [c for c in reg.chips.values() if c.image_chip_id is None]
        if not chips:
            raise UsageError("make-image needs --chip", hint="e.g. --chip esp8266")
        chip = chips[0]
    else:
        chip = _chip(ctx, "make-image")
    entry = checks.u32(entrypoint, "entry point")
    addrs = [checks.u32(a, "segment address") for a in segaddr]
    checks.output_path(output)
    segs = [Segment(a, read_input(f), os.path.basename(f)) for f, a in zip(segfile, addrs, strict=True)]
    for seg in segs:
        if seg.end > checks.U32 + 1:
            raise UsageError(f"segment {seg.name} at 0x{seg.addr:x} ends past the 32-bit address space",
                             hint="check the --segaddr")
    zero_size = next((n for n, c in chip.flash_size_codes.items() if c == 0), "1MB")
    settings = ImageSettings(flash_size=zero_size, raw_segments=True)
    with _input_errors():
        elf = ElfFile.from_segments(segs, entry)
        files = reg.chip_hook(chip).esptk_build_image(chip=chip, elf=elf, settings=settings)
    if not files:
        raise UsageError(f"no plugin builds {chip.description} images", hint="install the chip's esptk plugin")
    write_files([(output, files[0].data)])
    _written(ctx, as_json, chip, [(output, files[0].data)], quiet=True)


def _written(ctx: typer.Context, as_json: bool, chip: ChipSpec, items: list[tuple[str, bytes]],
             quiet: bool = False, **extra: object) -> None:
    """Report the files an offline command wrote: one JSON object with --json, else a line each."""
    if as_json or state(ctx).json:
        import hashlib

        console.out_json({"chip": chip.name, **extra, "files": [
            {"file": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in items]})
    elif not (quiet or state(ctx).quiet):
        for name, data in items:
            console.info(f"Wrote {name} ({len(data)} bytes)")


def _guess_chip(data: bytes) -> ChipSpec:
    """The chip an image is for: its extended header's chip id, else a chip without one."""
    chips = list(registry().chips.values())
    extended = [c for c in chips if c.image_chip_id is not None]
    if len(data) >= 24 and data[0] == 0xE9 and data[23] in (0, 1) and extended:
        chip_id = int.from_bytes(data[12:14], "little")
        for c in extended:
            if c.image_chip_id == chip_id:
                return c
        if not any(c.image_chip_id is None for c in chips):
            return extended[0]
        if data[14] <= 3 and data[19:23] == bytes(4):  # a plausible extended header of a chip we lack
            return extended[0]
    plain = [c for c in chips if c.image_chip_id is None]
    if not plain:
        raise UsageError("cannot tell which chip this image is for", hint="add --chip")
    return plain[0]


def image_info(
    ctx: typer.Context,
    filename: Annotated[str, typer.Argument(help="Image file (.bin, or Intel HEX of merged files).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show the header, segments, checksum and hash of a firmware image."""
    from ..image.files import read_input
    from ..image.ihex import HexError, looks_like_hex, read_hex

    st = state(ctx)
    as_json = as_json or st.json
    auto = st.chip == "auto"
    data = read_input(filename)
    if not data:
        raise UsageError(f"{filename} is empty", hint="give a firmware image file")
    pieces: list[tuple[int, bytes]] | None = None
    if looks_like_hex(data):
        try:
            pieces = read_hex(data)
        except HexError:
            pieces = None
        if pieces is not None and len(pieces) == 1:
            data, pieces = pieces[0][1], None
    if pieces is None:
        chip, info = _read_one(st.chip, data)
        if as_json:
            console.out_json({"file": filename, "chip": chip.name, "image": info.as_dict()})
            return
        lines, warnings = _info_lines(chip, info, detected=auto)
        console.out("\n".join([f"Image size: {info.size} bytes", *lines]))
        for w in warnings:
            console.warn(w)
        return
    results: list[dict[str, Any]] = []
    if not as_json:
        console.out("Merged binary image detected. Processing each file individually.")
    for i, (addr, blob) in enumerate(pieces, 1):
        head = f"Processing file {i}/{len(pieces)}, offset: 0x{addr:x}, size: {len(blob)} bytes"
        if not as_json:
            console.out("\n".join(["", "=" * len(head), head, "=" * len(head)]))
        try:
            chip, info = _read_one(st.chip, blob)
        except EsptkError as e:
            results.append({"offset": addr, "size": len(blob), "image": None, "error": e.message})
            console.warn(f"file {i}/{len(pieces)} is not a valid firmware image ({e.message})")
            continue
        results.append({"offset": addr, "size": len(blob), "chip": chip.name, "image": info.as_dict()})
        if not as_json:
            lines, warnings = _info_lines(chip, info, detected=auto)
            console.out("\n".join(lines))
            for w in warnings:
                console.warn(w)
    if as_json:
        console.out_json({"file": filename, "merged": results})


def _read_one(chip_name: str, data: bytes) -> tuple[ChipSpec, ImageInfo]:
    with _input_errors():
        chip = _guess_chip(data) if chip_name == "auto" else registry().chip(chip_name)
        info = registry().chip_hook(chip).esptk_read_image(chip=chip, data=data)
    if info is None:
        raise UsageError(f"no plugin reads {chip.description} images", hint="install the chip's esptk plugin")
    return chip, info


def _info_lines(chip: ChipSpec, info: ImageInfo, detected: bool) -> tuple[list[str], list[str]]:
    from ..image.describe import describe

    label = (info.extended or {}).get("chip_name") if detected else None
    label = label or chip.description
    lines, warnings = describe(info, label)
    return ([f"Detected image type: {label}"] if detected else []) + lines, warnings


def merge_bin(
    ctx: typer.Context,
    addr_files: Annotated[list[str], typer.Argument(help="Pairs of flash address and file.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Output file.")],
    format: Annotated[str, typer.Option("--format", "-f", help="raw, hex or uf2.")] = "raw",
    target_offset: Annotated[str, typer.Option("--target-offset", "-t", help="Flash address of the raw output.")] = "0",
    pad_to_size: Annotated[str | None, typer.Option("--pad-to-size", "--fill-flash-size",
                                                    help="Fill raw output with 0xFF up to this flash size.")] = None,
    chunk_size: Annotated[int | None, typer.Option(help="UF2 payload bytes per block.")] = None,
    md5_disable: Annotated[bool, typer.Option("--md5-disable", help="UF2 blocks without MD5.")] = False,
    flash_mode: Annotated[str, typer.Option("--flash-mode", "-fm", envvar=FM_ENV, help="keep or e.g. dio.")] = "keep",
    flash_freq: Annotated[str, typer.Option("--flash-freq", "-ff", envvar=FF_ENV, help="keep or e.g. 40m.")] = "keep",
    flash_size: Annotated[str, typer.Option("--flash-size", "-fs", envvar=FS_ENV, help="keep or e.g. 4MB.")] = "keep",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (file written).")] = False,
) -> None:
    """Merge files at flash addresses into one raw, Intel HEX or UF2 file."""
    from ..image import merge
    from ..image.files import write_files

    chip = _chip(ctx, "merge-bin")
    fmt = format.lower()
    if fmt not in ("raw", "hex", "uf2"):
        raise UsageError(f"unknown --format '{format}'", hint="use raw, hex or uf2")
    if not addr_files or len(addr_files) % 2:
        raise UsageError("give pairs of address and file", hint="e.g. merge-bin -o out.bin 0x1000 bootloader.bin")
    top = checks.table_top(chip)
    pairs = [(checks.u32(addr_files[i], "address"), addr_files[i + 1]) for i in range(0, len(addr_files), 2)]
    mode = _flash_choice(chip, flash_mode, chip.flash_mode_codes, "flash mode")
    freq = _flash_choice(chip, flash_freq, chip.flash_freq_codes, "flash frequency")
    size = _flash_choice(chip, flash_size, chip.flash_size_codes, "flash size")
    offset = checks.u32(target_offset, "--target-offset")
    pad = _flash_size_bytes(pad_to_size, "--pad-to-size")
    checks.output_path(output)
    with _input_errors():
        pieces = merge.load_pieces(pairs)
        merge.check_extent(pieces, top, chip.description)
        merge.check_overlaps(pieces)
        for w in merge.patch_pieces(registry_for_chip(chip.name), chip, pieces, mode, freq, size):
            console.warn(w)
        if fmt == "raw":
            data = merge.merge_raw(pieces, offset, pad)
        elif fmt == "hex":
            data = merge.merge_hex(pieces)
        else:
            family = chip.uf2_family_id
            if family is None:
                raise UsageError(f"no UF2 family id is known for {chip.description}", hint="use --format raw or hex")
            if chunk_size is not None and not 0 < chunk_size <= 476 - (0 if md5_disable else 24):
                raise UsageError(f"--chunk-size {chunk_size} does not fit a UF2 block",
                                 hint="use at most 452 bytes (476 with --md5-disable)")
            data = merge.merge_uf2(pieces, family, chunk_size, not md5_disable)
    write_files([(output, data)])
    if as_json or state(ctx).json:
        _written(ctx, True, chip, [(output, data)], format=fmt)
    elif not state(ctx).quiet:
        console.info(f"Wrote {output} ({len(data)} bytes, {fmt})")
