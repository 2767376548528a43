"""How ``esptk efuse`` shows eFuses: the summary table, espefuse-compatible JSON, block dumps."""

from __future__ import annotations

from typing import Any

from ..efuse import Field, Snapshot


def perms(snap: Snapshot, f: Field) -> str:
    return ("-" if snap.read_protected(f) else "R") + "/" + ("-" if snap.write_protected(f) else "W")


def field_json(snap: Snapshot, f: Field) -> dict[str, Any]:
    """One field as espefuse's ``summary --format json`` shows it (same keys, same values)."""
    value, _text = snap.value(f)
    return {
        "bit_len": snap.length(f), "block": f.block, "category": f.category, "description": f.description,
        "efuse_type": snap.type_name(f), "name": f.name, "pos": f.pos, "raw_value": snap.raw_text(f),
        "readable": not snap.read_protected(f), "value": value, "word": f.word,
        "writeable": not snap.write_protected(f),
    }


def summary_json(snap: Snapshot, names: list[str] | None = None) -> dict[str, Any]:
    return {f.name: field_json(snap, f) for f in sorted(_chosen(snap, names), key=lambda f: f.name)}


def _chosen(snap: Snapshot, names: list[str] | None) -> list[Field]:
    return [f for f in snap.fields if not names or f.name in names]


def summary_lines(snap: Snapshot, names: list[str] | None = None, active: bool = False) -> list[str]:
    """The summary table, grouped by category (title case, alphabetical) like espefuse's."""
    lines = ["EFUSE_NAME (Block) Description  = [Meaningful Value] [Readable/Writeable] (Hex Value)", "-" * 88]
    groups: dict[str, list[Field]] = {}
    for f in _chosen(snap, names):
        if active and not (snap.raw(f) or snap.read_protected(f) or snap.write_protected(f)):
            continue
        groups.setdefault(f.category.title(), []).append(f)
    for cat in sorted(groups):
        lines.append(f"{cat} fuses:")
        for f in groups[cat]:
            lines += _row(snap, f)
        lines.append("")
    lines += snap.support.summary_lines(snap)
    if snap.error_reg:
        lines.append("WARNING: Coding scheme has encoding bit error warnings")
    return lines


def _row(snap: Snapshot, f: Field) -> list[str]:
    block = snap.support.layout.block(f.block).name
    err = "[error]" if f.block in snap.error_blocks else ""
    head = f"{f.name} ({block}){err}"
    desc = f.description
    text = snap.value(f)[1]
    raw = "" if f.kind in ("bytes", "mac") else f"({_bits(snap, f)})"
    sep = "\n  " if len(text) > 20 else ""
    first = f"{head:<50} {desc[:50]:<50}{sep} = {text} {perms(snap, f)} {raw}"
    rest = [" " * 51 + f"{desc[i:i + 50]:<50}" for i in range(50, len(desc), 50)]
    return [*first.split("\n"), *rest]


def _bits(snap: Snapshot, f: Field) -> str:
    n, raw = snap.length(f), snap.raw(f)
    return f"0x{raw:0{n // 4}x}" if n % 4 == 0 else f"0b{raw:0{n}b}"


def dump_lines(snap: Snapshot) -> list[str]:
    out = []
    for b in snap.support.layout.blocks:
        data = snap.data[b.index]
        words = " ".join(f"{int.from_bytes(data[i:i + 4], 'little'):08x}" for i in range(0, len(data), 4))
        alias = " ".join(b.aliases)[:16]
        out.append(f"{b.name:<15} ({alias:<16}) [{b.index:<2}] dump: {words}")
    if snap.error_reg:
        out.append(f"coding error register 0x{snap.error_reg:08x}")
    return out
