"""``esptk efuse`` commands that burn keys, protection bits and raw block data."""

from __future__ import annotations

from typing import Annotated

import typer

from ..efuse import BurnPlan, EfuseError
from ..errors import UsageError
from ..fileio import read_file
from .efuse import ConfirmOpt, ForceOpt, JsonOpt, burn_plan, efuse_app, efuses


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
        burn_plan(ctx, s, plan, do_not_confirm, as_json, {"blocks": blocks})


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
        burn_plan(ctx, s, plan, no_confirm, as_json, {kind + "_protected": names})


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
        burn_plan(ctx, s, plan, do_not_confirm, as_json)


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
        burn_plan(ctx, s, plan, do_not_confirm, as_json)


@efuse_app.command("set-flash-voltage")
def set_flash_voltage(ctx: typer.Context, voltage: str, do_not_confirm: ConfirmOpt = False,
                      as_json: JsonOpt = False) -> None:
    """Fix the flash supply: 1.8V, 3.3V or OFF (regulator off)."""
    with efuses(ctx) as (s, support, snap):
        plan = BurnPlan(snap)
        support.stage_flash_voltage(plan, voltage)
        burn_plan(ctx, s, plan, do_not_confirm, as_json)


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
        burn_plan(ctx, s, plan, do_not_confirm, as_json, {"digest": digest.hex()})
