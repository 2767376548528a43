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

from ..efuse import BurnFailed, BurnPlan, EfuseError, EfuseSupport, Snapshot
from ..errors import UsageError
from ..fileio import write_atomic
from . import console
from .connect import session, state_of
from .efuse_render import dump_lines, summary_json, summary_lines
from .groups import AliasGroup

if TYPE_CHECKING:
    from ..session import Session

ALIASES = {"burn-efuse": "burn", "read-protect-efuse": "read-protect", "write-protect-efuse": "write-protect"}


class EfuseGroup(AliasGroup):
    """Finds ``burn_efuse`` / ``burn-efuse`` as ``burn`` and so on."""

    aliases = ALIASES


efuse_app = typer.Typer(cls=EfuseGroup, no_args_is_help=True, help="Read and burn eFuses (one-time programmable).")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the results.")]
ConfirmOpt = Annotated[bool, typer.Option("--do-not-confirm", help="Burn without asking to type BURN.")]
ForceOpt = Annotated[bool, typer.Option("--force-write-always",
                                        help="Skip the protection checks (the chip still ignores protected bits).")]


def register(app: typer.Typer) -> None:
    from . import efuse_burn  # noqa: F401 - adds the key, protection and raw-bit commands

    app.add_typer(efuse_app, name="efuse")


@efuse_app.callback()
def efuse_group(ctx: typer.Context, do_not_confirm: ConfirmOpt = False) -> None:
    """Read and burn eFuses (one-time programmable). ``--do-not-confirm`` here applies to every burn,
    as espefuse's global option does."""
    state_of(ctx).extra["efuse_do_not_confirm"] = do_not_confirm


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
    for name, block, old, new in plan.describe(state_of(ctx).verbose):
        console.info(f"  - {name} ({block}): {old} -> {new}")
    for note in plan.notes:
        console.info(note)
    console.info("This is an irreversible operation!")
    if no_confirm or state_of(ctx).extra.get("efuse_do_not_confirm"):
        return
    console.info("Type 'BURN' (all capitals) to continue.")
    line = sys.stdin.readline()
    if line.strip() != "BURN":
        raise EfuseError("not burnt: the confirmation was not given", hint="type BURN, or pass --do-not-confirm")


def burn_plan(ctx: typer.Context, s: Session, plan: BurnPlan, no_confirm: bool, as_json: bool,
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
        console.warn(f"programmed: {', '.join(r.programmed) or 'nothing'}; interrupted: {r.interrupted or 'none'}; "
                     f"not programmed: {', '.join(r.pending) or 'nothing'}; did not take: "
                     f"{', '.join(r.failed) or 'none'}")
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
         fmt: Annotated[str, typer.Option("--format", help="default (words), split (one file per block) or "
                                                          "joint (one file).")] = "default",
         file_name: Annotated[str | None, typer.Option("--file-name", help="Output file (split: n is added "
                                                                           "before the extension).")] = None,
         as_json: JsonOpt = False) -> None:
    """Each block as the chip reads it: words, or its bytes in memory order."""
    if fmt not in ("default", "split", "joint"):
        raise typer.BadParameter(f"{fmt!r} is not default, split or joint", param_hint="--format")
    with efuses(ctx) as (s, support, snap):
        pass
    blocks = support.layout.blocks
    if fmt == "joint" and file_name:
        write_atomic(file_name, b"".join(snap.data[b.index] for b in blocks))
        console.info(f"Dumped all blocks -> {file_name}")
    elif file_name:  # split, or default with a file: one file per block
        path = Path(file_name)
        for b in blocks:
            out = path.with_name(f"{path.stem}{b.index}{path.suffix}")
            write_atomic(str(out), snap.data[b.index])
            console.info(f"Dumped {b.name} -> {out}")
    if _json(ctx, as_json):
        console.out_json({"chip": s.chip.name, "blocks": {b.name: snap.data[b.index].hex() for b in blocks},
                          "coding_errors": snap.error_reg})
    elif not file_name:
        lines = dump_lines(snap) if fmt == "default" else [snap.data[b.index].hex() for b in blocks]
        for line in lines:
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
    else:
        for name in names:
            console.out(f"Error(s) in {name} [ERRORS:0 FAIL:True]")
        if names:
            console.out(f"coding error register 0x{snap.error_reg:08x}")
    if names:
        raise EfuseError(f"coding errors in {', '.join(names)} (register 0x{snap.error_reg:08x})",
                         hint="a block was written twice under a coding scheme that forbids it")
    if not _json(ctx, as_json):
        console.out("No errors detected.")


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
            plan.stage_name(name, value)
        burn_plan(ctx, s, plan, do_not_confirm, as_json)


@efuse_app.command("burn-custom-mac")
def burn_custom_mac(ctx: typer.Context, mac: str, do_not_confirm: ConfirmOpt = False,
                    force_write_always: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Burn a custom MAC address (with its CRC and version)."""
    with efuses(ctx) as (s, support, snap):
        plan = BurnPlan(snap, force=force_write_always)
        support.stage_custom_mac(plan, mac)
        plan.check()
        burn_plan(ctx, s, plan, do_not_confirm, as_json, {"custom_mac": mac.lower()})
        after = Snapshot.read(support, s.loader)
        console.info(support.custom_mac(after) or "")
