"""``esptk efuse ...``: read and burn eFuses on any chip whose plugin answers ``esptk_efuse``.

espefuse's spellings work too (``burn_efuse``, ``burn-efuse``, ``read-protect-efuse``,
``--do-not-confirm``). Every burn is checked completely before the first bit is programmed and
needs ``BURN`` typed on stdin unless ``--do-not-confirm``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from ..efuse import BurnFailed, BurnPlan, EfuseError, EfuseSupport, Snapshot
from ..errors import UsageError
from ..fileio import read_file, write_atomic
from . import console
from .connect import session, state_of
from .efuse_render import dump_lines, summary_json, summary_lines

if TYPE_CHECKING:
    from ..session import Session

ALIASES = {"burn-efuse": "burn", "read-protect-efuse": "read-protect", "write-protect-efuse": "write-protect"}


class EfuseGroup(TyperGroup):
    """Finds ``burn_efuse`` / ``burn-efuse`` as ``burn`` and so on."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        name = cmd_name.replace("_", "-")
        return super().get_command(ctx, ALIASES.get(name, name))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd else name), cmd, rest


efuse_app = typer.Typer(cls=EfuseGroup, no_args_is_help=True, help="Read and burn eFuses (one-time programmable).")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the results.")]
ConfirmOpt = Annotated[bool, typer.Option("--do-not-confirm", help="Burn without asking to type BURN.")]
ForceOpt = Annotated[bool, typer.Option("--force-write-always",
                                        help="Skip the protection checks (the chip still ignores protected bits).")]


def register(app: typer.Typer) -> None:
    app.add_typer(efuse_app, name="efuse")


@contextlib.contextmanager
def efuses(ctx: typer.Context) -> Iterator[tuple[Session, EfuseSupport, Snapshot]]:
    with session(ctx, use_stub=False) as s:
        support = state_of(ctx).registry.chip_hook(s.chip).esptk_efuse(chip=s.chip)
        if support is None:
            raise UsageError(f"{s.chip.description} has no eFuse support in its plugin",
                             hint="the chip plugin does not implement esptk_efuse")
        yield s, support, Snapshot.read(support, s.loader)


def _json(ctx: typer.Context, as_json: bool) -> bool:
    return as_json or state_of(ctx).json


def _confirm(ctx: typer.Context, plan: BurnPlan, no_confirm: bool, as_json: bool) -> None:
    for name, block, old, new in plan.describe():
        console.info(f"  - {name} ({block}): {old} -> {new}")
    for note in plan.notes:
        console.info(note)
    console.info("This is an irreversible operation!")
    if no_confirm:
        return
    console.info("Type 'BURN' (all capitals) to continue.")
    line = sys.stdin.readline()
    if line.strip() != "BURN":
        raise EfuseError("not burnt: the confirmation was not given", hint="type BURN, or pass --do-not-confirm")


def _burn(ctx: typer.Context, s: Session, plan: BurnPlan, no_confirm: bool, as_json: bool,
          extra: dict[str, Any] | None = None) -> None:
    plan.check()
    if plan.empty():
        for note in plan.notes:
            console.info(note)
        console.info("Nothing to burn.")
        if _json(ctx, as_json):
            console.out_json({"chip": s.chip.name, "burnt": False, **(extra or {})})
        return
    _confirm(ctx, plan, no_confirm, as_json)
    try:
        report = plan.burn(s.loader)
    except BurnFailed as e:
        r = e.report
        console.warn(f"programmed: {', '.join(r.programmed) or 'nothing'}; not programmed: "
                     f"{', '.join(r.pending) or 'nothing'}; did not take: {', '.join(r.failed) or 'none'}")
        if _json(ctx, as_json):
            console.out_json({"chip": s.chip.name, "burnt": False, "error": e.message, **r.as_dict()})
        raise
    for name in report.unreadable:
        console.info(f"{name} is read-protected: the burnt value cannot be read back")
    console.info(f"Burnt and verified: {', '.join(report.ok) or 'nothing readable'}")
    if _json(ctx, as_json):
        console.out_json({"chip": s.chip.name, "burnt": True, **report.as_dict(), **(extra or {})})


# --- reading ---------------------------------------------------------------------------------


@efuse_app.command()
def summary(ctx: typer.Context, names: Annotated[list[str] | None, typer.Argument(help="Only these fields.")] = None,
            fmt: Annotated[str, typer.Option("--format", help="summary, json (espefuse's layout) or value-only.")
                           ] = "summary",
            file: Annotated[str | None, typer.Option("--file", help="Write the output to this file.")] = None,
            active: Annotated[bool, typer.Option("--active", help="Only non-zero or protected fields.")] = False,
            as_json: JsonOpt = False) -> None:
    """Every eFuse field with its value, protection and category."""
    fmt = fmt.replace("_", "-")
    if fmt not in ("summary", "json", "value-only"):
        raise typer.BadParameter(f"{fmt!r} is not summary, json or value-only", param_hint="--format")
    with efuses(ctx) as (s, _support, snap):
        pass
    if fmt == "value-only":
        if not names or len(names) != 1:
            raise UsageError("--format value-only shows exactly one field", hint="name one field")
        text = snap.value(snap.support.layout.field(names[0]))[1]
    elif fmt == "json":
        text = json.dumps(summary_json(snap, names), indent=4, sort_keys=True)
    elif _json(ctx, as_json):
        text = ""
        console.out_json({"chip": s.chip.name, "efuses": summary_json(snap, names)})
    else:
        text = "\n".join(summary_lines(snap, names, active))
    if file:
        write_atomic(file, (text + "\n").encode())
        console.info(f"Saved the eFuse values to {file}")
    elif text:
        console.out(text)


@efuse_app.command()
def dump(ctx: typer.Context,
         file_name: Annotated[str | None, typer.Option("--file-name", help="Write BLOCKn to FILE_NAME with n "
                                                                           "added before the extension.")] = None,
         as_json: JsonOpt = False) -> None:
    """Each block's words as the chip reads them."""
    with efuses(ctx) as (s, support, snap):
        pass
    if file_name:
        path = Path(file_name)
        for b in support.layout.blocks:
            out = path.with_name(f"{path.stem}{b.index}{path.suffix}")
            write_atomic(str(out), snap.data[b.index])
            console.info(f"Dumped {b.name} -> {out}")
    if _json(ctx, as_json):
        console.out_json({"chip": s.chip.name, "blocks": {support.layout.block(i).name: d.hex()
                                                          for i, d in snap.data.items()},
                          "coding_errors": snap.error_reg})
    elif not file_name:
        for line in dump_lines(snap):
            console.out(line)


@efuse_app.command("get-custom-mac")
def get_custom_mac(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The custom MAC address, if one is burnt."""
    with efuses(ctx) as (s, support, snap):
        text = support.custom_mac(snap)
    if _json(ctx, as_json):
        console.out_json({"chip": s.chip.name, "custom_mac": text})
    else:
        console.out(text or "Custom MAC Address is not set in the device.")


@efuse_app.command("adc-info")
def adc_info(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """ADC calibration values held in eFuses."""
    with efuses(ctx) as (s, support, snap):
        lines = support.adc_info(snap)
    if _json(ctx, as_json):
        console.out_json({"chip": s.chip.name, "adc_info": lines})
    else:
        for line in lines:
            console.out(line)


@efuse_app.command("check-error")
def check_error(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Report coding-scheme errors; exit 1 if there are any."""
    with efuses(ctx) as (s, support, snap):
        pass
    names = [support.layout.block(i).name for i in sorted(snap.error_blocks)]
    if _json(ctx, as_json):
        console.out_json({"chip": s.chip.name, "error_register": snap.error_reg, "blocks": names})
    if names:
        raise EfuseError(f"coding errors in {', '.join(names)} (register 0x{snap.error_reg:08x})",
                         hint="a block was written twice under a coding scheme that forbids it")
    console.info("No errors detected.")


# --- burning ---------------------------------------------------------------------------------


@efuse_app.command()
def burn(ctx: typer.Context, pairs: Annotated[list[str], typer.Argument(help="NAME VALUE [NAME VALUE ...]")],
         do_not_confirm: ConfirmOpt = False, force_write_always: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Burn fields by name: NAME VALUE pairs (a lone bool name burns 1)."""
    if len(pairs) % 2 and len(pairs) != 1:
        raise UsageError("give NAME VALUE pairs", hint="e.g. burn JTAG_DISABLE 1 CLK8M_FREQ 0x80")
    with efuses(ctx) as (s, _support, snap):
        plan = BurnPlan(snap, force=force_write_always)
        items = [(pairs[0], None)] if len(pairs) == 1 else list(zip(pairs[::2], pairs[1::2]))
        for name, value in items:
            if snap.support.layout.field(name).kind == "mac" and value is not None and name != "MAC":
                _stage_mac(plan, value)
            else:
                plan.stage_name(name, value)
        _burn(ctx, s, plan, do_not_confirm, as_json)


def _stage_mac(plan: BurnPlan, text: str) -> None:
    try:
        raw = plan.parse(plan.layout.field("CUSTOM_MAC"), text)
        plan.support.stage_custom_mac(plan, raw.to_bytes(6, "little"))
    except EfuseError as e:
        plan.problems.append(e.message)


@efuse_app.command("burn-custom-mac")
def burn_custom_mac(ctx: typer.Context, mac: str, do_not_confirm: ConfirmOpt = False,
                    force_write_always: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Burn a custom MAC address (with its CRC and version)."""
    with efuses(ctx) as (s, support, snap):
        plan = BurnPlan(snap, force=force_write_always)
        f = support.layout.field("CUSTOM_MAC") if support.layout.find("CUSTOM_MAC") else None
        if f is None:
            raise EfuseError(f"{s.chip.description} has no custom MAC eFuse")
        raw = plan.parse(f, mac)
        support.stage_custom_mac(plan, raw.to_bytes(6, "little"))
        _burn(ctx, s, plan, do_not_confirm, as_json, {"custom_mac": mac.lower()})
        after = Snapshot.read(support, s.loader)
        console.info(support.custom_mac(after) or "")


@efuse_app.command("burn-key")
def burn_key(ctx: typer.Context, pairs: Annotated[list[str], typer.Argument(help="BLOCK KEYFILE [BLOCK KEYFILE ...]")],
             no_protect_key: Annotated[bool, typer.Option("--no-protect-key",
                                                          help="Leave the key readable and writable.")] = False,
             do_not_confirm: ConfirmOpt = False, force_write_always: ForceOpt = False,
             as_json: JsonOpt = False) -> None:
    """Burn keys (raw binary files) into key blocks; flash_encryption/secure_boot_v1 store them reversed."""
    if len(pairs) % 2:
        raise UsageError("give BLOCK KEYFILE pairs", hint="e.g. burn-key flash_encryption key.bin")
    with efuses(ctx) as (s, support, snap):
        plan = BurnPlan(snap, force=force_write_always)
        blocks: list[str] = []
        for name, path in zip(pairs[::2], pairs[1::2]):
            block, reverse, rd, wr = support.key_block(name)
            if block.name in blocks:
                raise UsageError(f"{block.name} is named twice", hint="burn one key per block")
            blocks.append(block.name)
            key = read_file(path, "key file")
            size = len(snap.data[block.index])
            if len(key) != size:
                raise EfuseError(f"Incorrect key file size {len(key)}. Key file must be {size} bytes "
                                 f"({size * 8} bits) of raw binary key data.")
            plan.stage_block(block, key[::-1] if reverse else key)
            if not no_protect_key:
                _protect(plan, block.rd_dis if rd else None, block.wr_dis if wr else None)
        _burn(ctx, s, plan, do_not_confirm, as_json, {"blocks": blocks})


def _protect(plan: BurnPlan, rd_bit: int | None, wr_bit: int | None) -> None:
    lay = plan.layout
    for fname, bit in ((lay.rd_dis_field, rd_bit), (lay.wr_dis_field, wr_bit)):
        if bit is None:
            continue
        f = lay.field(fname)
        if plan.snap.write_protected(f) and not plan.force:
            plan.problems.append(f"{f.name} is itself write-protected: cannot protect more")
            continue
        cur = plan.staged[f.name].raw if f.name in plan.staged else plan.snap.raw(f)
        plan.stage(f, cur | 1 << bit, protect_ok=True)


def _protect_names(ctx: typer.Context, names: list[str], kind: str, no_confirm: bool, as_json: bool) -> None:
    with efuses(ctx) as (s, support, snap):
        plan = BurnPlan(snap)
        for name in names:
            f = support.layout.find(name)
            block = None if f else support.layout.block(name)
            if f is not None and (f.rd_dis if kind == "read" else f.wr_dis) is not None:
                bit = f.rd_dis if kind == "read" else f.wr_dis
            elif block is not None and (block.rd_dis if kind == "read" else block.wr_dis) is not None:
                bit = block.rd_dis if kind == "read" else block.wr_dis
            else:
                raise EfuseError(f"{name} cannot be {kind}-protected", hint="it has no protection bit")
            fname = support.layout.rd_dis_field if kind == "read" else support.layout.wr_dis_field
            if snap.raw_of(fname) >> (bit or 0) & 1:
                plan.notes.append(f"{name} is already {kind} protected")
                continue
            _protect(plan, bit if kind == "read" else None, bit if kind == "write" else None)
        _burn(ctx, s, plan, no_confirm, as_json, {kind + "_protected": names})


@efuse_app.command("read-protect")
def read_protect(ctx: typer.Context, names: list[str], do_not_confirm: ConfirmOpt = False,
                 as_json: JsonOpt = False) -> None:
    """Make fields or blocks read as zero (the hardware keeps using them)."""
    _protect_names(ctx, names, "read", do_not_confirm, as_json)


@efuse_app.command("write-protect")
def write_protect(ctx: typer.Context, names: list[str], do_not_confirm: ConfirmOpt = False,
                  as_json: JsonOpt = False) -> None:
    """Stop any further burning of fields or blocks."""
    _protect_names(ctx, names, "write", do_not_confirm, as_json)


@efuse_app.command("burn-block-data")
def burn_block_data(ctx: typer.Context,
                    pairs: Annotated[list[str], typer.Argument(help="BLOCK FILE [BLOCK FILE ...]")],
                    offset: Annotated[int, typer.Option("--offset", "-o", help="Byte offset in the block.")] = 0,
                    do_not_confirm: ConfirmOpt = False, force_write_always: ForceOpt = False,
                    as_json: JsonOpt = False) -> None:
    """Burn raw bytes (memory order) into blocks."""
    if len(pairs) % 2 or (offset and len(pairs) != 2):
        raise UsageError("give BLOCK FILE pairs (--offset only with one block)")
    with efuses(ctx) as (s, support, snap):
        plan = BurnPlan(snap, force=force_write_always)
        for name, path in zip(pairs[::2], pairs[1::2]):
            block = support.layout.block(name)
            size = len(snap.data[block.index])
            data = read_file(path, "data file")
            if offset >= size or (offset == 0 and len(data) != size) or offset + len(data) > size:
                raise EfuseError(f"Data does not fit: the {block.name} size is {size} bytes, data file is "
                                 f"{len(data)} bytes, offset {offset}.")
            plan.stage_block(block, bytes(offset) + data + bytes(size - offset - len(data)))
        _burn(ctx, s, plan, do_not_confirm, as_json)


@efuse_app.command("burn-bit")
def burn_bit(ctx: typer.Context, block: str, bits: list[int], do_not_confirm: ConfirmOpt = False,
             force_write_always: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Burn single bits of a block (block bit numbers)."""
    with efuses(ctx) as (s, support, snap):
        b = support.layout.block(block)
        n = len(snap.data[b.index]) * 8
        bad = [x for x in bits if not 0 <= x < n]
        if bad:
            raise EfuseError(f"{b.name} has bit_number in [0..{n - 1}]", hint=f"{bad[0]} is outside")
        value = sum(1 << x for x in set(bits))
        plan = BurnPlan(snap, force=force_write_always)
        plan.stage_block(b, value.to_bytes(n // 8, "little"))
        _burn(ctx, s, plan, do_not_confirm, as_json)


@efuse_app.command("set-flash-voltage")
def set_flash_voltage(ctx: typer.Context, voltage: str, do_not_confirm: ConfirmOpt = False,
                      as_json: JsonOpt = False) -> None:
    """Fix the flash supply: 1.8V, 3.3V or OFF (regulator off)."""
    with efuses(ctx) as (s, support, snap):
        plan = BurnPlan(snap)
        support.stage_flash_voltage(plan, voltage)
        _burn(ctx, s, plan, do_not_confirm, as_json)


@efuse_app.command("burn-key-digest")
def burn_key_digest(ctx: typer.Context, keyfile: str,
                    no_protect_key: Annotated[bool, typer.Option("--no-protect-key")] = False,
                    do_not_confirm: ConfirmOpt = False, force_write_always: ForceOpt = False,
                    as_json: JsonOpt = False) -> None:
    """Burn the digest of a secure-boot public key (from a PEM key file)."""
    with efuses(ctx) as (s, support, snap):
        block, digest = support.key_digest(snap, read_file(keyfile, "key file"))
        plan = BurnPlan(snap, force=force_write_always)
        plan.stage_block(block, digest)
        if not no_protect_key:
            _protect(plan, None, block.wr_dis)
        _burn(ctx, s, plan, do_not_confirm, as_json, {"digest": digest.hex()})
