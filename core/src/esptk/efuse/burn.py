"""Burning eFuses: a batch is staged and checked completely before the first bit is programmed,
programmed block by block through the chip's sequence, then read back and compared.

Rules (SECURITY.md 4.5): bits never go 1 -> 0; protected fields and blocks are refused; what the
coding scheme forbids is refused; BLOCKn are programmed highest first and the chip's postponed
BLOCK0 fields (protection bits) in a last cycle. A failure raises :class:`BurnFailed` carrying a
:class:`BurnReport` of what was and was not programmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..chip import RegisterAccess
from .layout import Block, EfuseError, Field
from .state import Snapshot, parse_value


@dataclass
class BurnReport:
    programmed: list[str] = field(default_factory=list)  #: program cycles done ("BLOCK3", "BLOCK0 (postponed)")
    pending: list[str] = field(default_factory=list)  #: cycles not attempted
    interrupted: str | None = None  #: the cycle that failed part-way: it may or may not have taken
    ok: list[str] = field(default_factory=list)  #: fields read back with every requested bit
    failed: list[str] = field(default_factory=list)  #: fields that did not take
    unreadable: list[str] = field(default_factory=list)  #: read-protected: cannot be checked

    def as_dict(self) -> dict[str, list[str] | str | None]:
        return {"programmed": self.programmed, "interrupted": self.interrupted, "not_programmed": self.pending,
                "verified": self.ok, "failed": self.failed, "unverifiable": self.unreadable}


class BurnFailed(EfuseError):
    def __init__(self, message: str, report: BurnReport, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.report = report


@dataclass
class Staged:
    field: Field
    raw: int  #: requested bits (already ORed with the burnt ones)
    note: str = ""


class BurnPlan:
    """A batch of burns against one snapshot."""

    def __init__(self, snap: Snapshot, force: bool = False) -> None:
        self.snap = snap
        self.support = snap.support
        self.layout = snap.support.layout
        self.force = force
        self.staged: dict[str, Staged] = {}
        self.blocks: dict[int, int] = {}  #: block -> bits to set (whole-block writes)
        self.problems: list[str] = []
        self.notes: list[str] = []

    # --- staging ------------------------------------------------------------------------------
    def parse(self, f: Field, text: str | None) -> int:
        raw = self.support.parse(f, text, self.snap)
        return parse_value(f, text, self.snap.length(f)) if raw is None else raw

    def stage(self, f: Field, raw: int, protect_ok: bool = False) -> None:
        """Ask for ``f`` to hold ``raw``. Problems are collected, reported all at once by ``check``."""
        snap, n = self.snap, self.snap.length(f)
        if f.refuse:
            self.problems.append(f.refuse)
            return
        old = snap.raw(f) | (self.staged[f.name].raw if f.name in self.staged else 0)
        if raw >> n:
            self.problems.append(f"the value does not fit {f.name} ({n} bits)")
            return
        if raw | old == old:
            if raw:
                self.notes.append(f"{f.name} already holds these bits: nothing to burn")
            return
        if raw & old != old and f.name not in (self.layout.wr_dis_field, self.layout.rd_dis_field):
            self.problems.append(
                f"{f.name}: the new value would clear burnt bits (eFuse bits only go 0 -> 1); "
                f"it would become 0x{raw | old:x}")
            return
        if not protect_ok:
            self._protection(f)
        self.staged[f.name] = Staged(f, raw | old)

    def stage_name(self, name: str, text: str | None) -> None:
        f = self.layout.field(name)
        try:
            if not self.support.stage_special(self, f, text):
                self.stage(f, self.parse(f, text))
        except EfuseError as e:
            self.problems.append(e.message)

    def stage_block(self, block: Block, data: bytes) -> None:
        """Set the bits of ``data`` (memory order, the block's data length) in ``block``."""
        have = self.snap.data[block.index]
        if len(data) != len(have):
            self.problems.append(f"{block.name} holds {len(have)} bytes, the data has {len(data)}")
            return
        if self.snap.block_write_protected(block) and not self.force:
            self.problems.append(f"{block.name} is write-protected: burning is not possible")
        if self.snap.block_read_protected(block) and not self.force:
            self.problems.append(f"{block.name} is read-protected: the burnt value cannot be read back")
        self.blocks[block.index] = self.blocks.get(block.index, 0) | int.from_bytes(data, "little")

    def _protection(self, f: Field) -> None:
        if self.force:
            return
        if self.snap.read_protected(f):
            self.problems.append(f"{f.name} is read-protected: the written value cannot be read back, "
                                 "a burn may damage what is there")
        if self.snap.write_protected(f):
            self.problems.append(f"{f.name} is write-protected: burning is not possible")

    # --- what will be programmed -------------------------------------------------------------
    def _bits(self, postponed: bool | None = None) -> dict[int, int]:
        """Per block, the requested bits (fields and whole-block data).

        ``postponed=None``: everything; ``False``: all but the chip's postponed BLOCK0 fields;
        ``True``: only those.
        """
        b0 = self.layout.blocks[0].index
        out: dict[int, int] = {} if postponed else dict(self.blocks)
        for s in self.staged.values():
            f = s.field
            late = f.block == b0 and f.name in self.support.postponed
            if postponed is None or late == postponed:
                out[f.block] = out.get(f.block, 0) | (s.raw << f.start)
        return out

    def check(self) -> None:
        """Raise one error listing every problem; nothing has been programmed yet."""
        problems = list(self.problems) + self.support.check_staged(self)
        for idx, bits in self._bits().items():
            b = self.layout.block(idx)
            old = self.snap.data[idx]
            new = (int.from_bytes(old, "little") | bits).to_bytes(len(old), "little")
            if b.coded:
                _data, refusal = self.snap.scheme.merge(b, old, new)
                if refusal and not self.force:
                    problems.append(refusal)
        if problems:
            raise EfuseError("nothing was burnt: " + "; ".join(problems),
                             hint="fix every item above and run the whole batch again")

    def empty(self) -> bool:
        return not self._bits()

    def describe(self, show_data: bool = False) -> list[tuple[str, str, str, str]]:
        """(name, block, old raw, new raw) of each staged field and block (block data only if
        ``show_data``: keys are secrets)."""
        rows = [(s.field.name, self.layout.block(s.field.block).name, self.snap.raw_text(s.field),
                 self._new_text(s)) for s in self.staged.values()]
        for idx, bits in self.blocks.items():
            b = self.layout.block(idx)
            n = len(self.snap.data[idx])
            new = (int.from_bytes(self.snap.data[idx], "little") | bits).to_bytes(n, "little")
            rows.append((b.name, b.name, "0x" + self.snap.data[idx].hex(),
                         "0x" + new.hex() if show_data else f"({n} bytes, not shown)"))
        return rows

    def _new_text(self, s: Staged) -> str:
        if s.field.kind in ("bytes", "mac"):
            return "0x" + s.raw.to_bytes(self.snap.length(s.field) // 8, "little").hex()
        return f"0x{s.raw:x}"

    # --- programming ---------------------------------------------------------------------------
    def cycles(self) -> list[tuple[str, Block, list[int]]]:
        """(label, block, write words) in program order: highest block first, postponed BLOCK0 last."""
        b0 = self.layout.blocks[0]
        main = self._bits(postponed=False if self.support.postponed else None)
        out = []
        for idx in sorted(main, reverse=True):
            b = self.layout.block(idx)
            old = self.snap.data[idx]
            new = (int.from_bytes(old, "little") | main[idx]).to_bytes(len(old), "little")
            data = self.snap.scheme.merge(b, old, new)[0] if b.coded else bytes(
                n & ~o & 0xFF for o, n in zip(old, new))
            if any(data):
                words = self.snap.scheme.encode(b, data) if b.coded else _words(data)
                out.append((b.name, b, words))
        if self.support.postponed:
            late = self._bits(postponed=True).get(b0.index, 0)
            late &= ~int.from_bytes(self.snap.data[b0.index], "little")
            if late:
                out.append((f"{b0.name} (postponed)", b0, _words(late.to_bytes(b0.words * 4, "little"))))
        return out

    def burn(self, regs: RegisterAccess) -> BurnReport:
        """Program every cycle, read back, compare. Raises :class:`BurnFailed` with the report."""
        self.check()
        report = BurnReport()
        cycles = self.cycles()
        report.pending = [c[0] for c in cycles]
        for label, block, words in cycles:
            report.pending.remove(label)
            try:
                self.support.program(regs, block, words)
            except Exception as e:
                report.interrupted = label
                done = ", ".join(report.programmed) or "nothing"
                raise BurnFailed(
                    f"programming {label} failed ({e}); programmed before: {done}; not attempted: "
                    f"{', '.join(report.pending) or 'nothing'}", report,
                    hint=f"{label} may be partly burnt: read the summary, then burn what is missing") from e
            report.programmed.append(label)
        after = Snapshot.read(self.support, regs)
        for s in self.staged.values():
            f = s.field
            if after.read_protected(f):
                report.unreadable.append(f.name)
            elif after.raw(f) & s.raw == s.raw:
                report.ok.append(f.name)
            else:
                report.failed.append(f.name)
        for idx, bits in self.blocks.items():
            b = self.layout.block(idx)
            if after.block_read_protected(b):
                report.unreadable.append(b.name)
            elif after.block_int(idx) & bits == bits:
                report.ok.append(b.name)
            else:
                report.failed.append(b.name)
        if report.failed or after.error_blocks - self.snap.error_blocks:
            what = ", ".join(report.failed) or "coding errors in " + ", ".join(
                self.layout.block(i).name for i in sorted(after.error_blocks))
            raise BurnFailed(f"the burn did not take: {what}", report,
                             hint="the fields may be write-protected; check-error shows coding errors")
        return report


def _words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]
