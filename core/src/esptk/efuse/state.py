"""A chip's eFuse support (what its plugin supplies) and a snapshot of a chip's eFuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..chip import RegisterAccess
from .layout import Block, CodingScheme, EfuseError, Field, Layout


class EfuseSupport:
    """Everything esptk needs to read and burn one chip's eFuses (returned by ``esptk_efuse``).

    A chip plugin subclasses this with its :class:`Layout`, its coding schemes and its
    program/read sequence; the generic commands (summary, burn, protect ...) do the rest.
    """

    layout: Layout
    #: BLOCK0 fields burnt in a second, final program cycle (protection bits land last)
    postponed: tuple[str, ...] = ()

    def coding_scheme(self, block0: bytes) -> CodingScheme:
        """The scheme of the coded blocks, from BLOCK0's data. Default: none."""
        return CodingScheme()

    def read_block(self, regs: RegisterAccess, block: Block, nbytes: int) -> bytes:
        """``nbytes`` of the block's read registers (READ_REG word by word)."""
        words = (nbytes + 3) // 4
        return b"".join(regs.read_reg(block.read_addr + 4 * i).to_bytes(4, "little") for i in range(words))[:nbytes]

    def read_extra(self, regs: RegisterAccess) -> dict[str, int]:
        """Other registers calculated fields need (chip revision bits ...)."""
        return {}

    def coding_errors(self, regs: RegisterAccess) -> tuple[int, frozenset[int]]:
        """(raw error register, indexes of blocks with coding errors). Default: none."""
        return 0, frozenset()

    def program(self, regs: RegisterAccess, block: Block, words: Sequence[int]) -> None:
        """Program ``words`` into ``block`` and reload the read registers (the chip's sequence)."""
        raise EfuseError("this chip's plugin cannot program eFuses")

    def fields(self, snap: Snapshot) -> list[Field]:
        """The fields present for this state (conditional groups may depend on other fields)."""
        return list(self.layout.fields)

    def calculate(self, f: Field, snap: Snapshot) -> int:
        """The value of a calculated field (``word is None``)."""
        return 0

    def format(self, f: Field, raw: int, snap: Snapshot) -> tuple[Any, str] | None:
        """(JSON value, text) for chip-specific kinds; None: core's generic display."""
        return None

    def parse(self, f: Field, text: str | None, snap: Snapshot) -> int | None:
        """Raw bits for a chip-specific kind given on the command line; None: core's generic parse."""
        return None

    def check_staged(self, plan: Any) -> list[str]:
        """Chip rules over a whole batch (return refusal messages)."""
        return []

    def summary_lines(self, snap: Snapshot) -> list[str]:
        """Extra lines after the summary table (flash voltage ...)."""
        return []

    # --- optional commands (a chip without the feature keeps the default refusal) ---------------
    def key_block(self, name: str) -> tuple[Block, bool, bool, bool]:
        """For a burn-key block name: (block, store reversed, read-protect, write-protect)."""
        b = self.layout.block(name)
        if b.index == self.layout.blocks[0].index:
            raise EfuseError(f"{name} cannot hold a key")
        return b, False, False, True

    def stage_special(self, plan: Any, f: Field, text: str | None) -> bool:
        """Stage a burn of ``f`` that means more than its own bits (a custom MAC brings its CRC and
        version); return False to let core stage the value as it is."""
        return False

    def stage_custom_mac(self, plan: Any, mac: str) -> None:
        """Stage the burn of a custom MAC address given as text."""
        raise EfuseError("this chip has no custom MAC eFuse")

    def custom_mac(self, snap: Snapshot) -> str | None:
        """The custom MAC as text (with its check), None if none is set."""
        return None

    def stage_flash_voltage(self, plan: Any, voltage: str) -> None:
        raise EfuseError("this chip has no flash voltage eFuses")

    def key_digest(self, snap: Snapshot, pem: bytes) -> tuple[Block, bytes]:
        """(block, digest bytes) for burn-key-digest of a secure-boot public key."""
        raise EfuseError("this chip's plugin has no secure-boot key digest")

    def adc_info(self, snap: Snapshot) -> list[str]:
        return ["this chip has no ADC calibration eFuses"]


@dataclass
class Snapshot:
    """The eFuses as read: each block's data (memory order), the coding scheme and errors."""

    support: EfuseSupport
    data: dict[int, bytes]
    scheme: CodingScheme
    error_reg: int = 0
    error_blocks: frozenset[int] = frozenset()
    fields: list[Field] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, support: EfuseSupport, regs: RegisterAccess) -> Snapshot:
        layout = support.layout
        b0 = layout.blocks[0]
        data = {b0.index: support.read_block(regs, b0, b0.words * 4)}
        scheme = support.coding_scheme(data[b0.index])
        for b in layout.blocks[1:]:
            n = scheme.data_bytes(b) if b.coded else b.words * 4
            data[b.index] = support.read_block(regs, b, n)
        err, blocks = support.coding_errors(regs)
        snap = cls(support, data, scheme, err, blocks, extra=support.read_extra(regs))
        snap.fields = support.fields(snap)
        return snap

    # --- bits ---------------------------------------------------------------------------------
    def block_int(self, block: int) -> int:
        return int.from_bytes(self.data[block], "little")

    def length(self, f: Field) -> int:
        """Bits of ``f`` in this state (keys follow the block's data length)."""
        return f.bits or len(self.data[f.block]) * 8

    def raw(self, f: Field) -> int:
        if f.calculated:
            return self.support.calculate(f, self)
        return (self.block_int(f.block) >> f.start) & ((1 << self.length(f)) - 1)

    def raw_of(self, name: str) -> int:
        return self.raw(self.support.layout.field(name))

    # --- protection ---------------------------------------------------------------------------
    def _bit(self, name: str, bit: int | None) -> bool:
        f = self.support.layout.find(name)
        return bit is not None and f is not None and bool(self.raw(f) >> bit & 1)

    def write_protected(self, f: Field) -> bool:
        lay = self.support.layout
        b = lay.block(f.block)
        return self._bit(lay.wr_dis_field, f.wr_dis) or self._bit(lay.wr_dis_field, b.wr_dis)

    def read_protected(self, f: Field) -> bool:
        lay = self.support.layout
        b = lay.block(f.block)
        return self._bit(lay.rd_dis_field, f.rd_dis) or self._bit(lay.rd_dis_field, b.rd_dis)

    def block_write_protected(self, b: Block) -> bool:
        return self._bit(self.support.layout.wr_dis_field, b.wr_dis)

    def block_read_protected(self, b: Block) -> bool:
        return self._bit(self.support.layout.rd_dis_field, b.rd_dis)

    # --- values -------------------------------------------------------------------------------
    def type_name(self, f: Field) -> str:
        n = self.length(f)
        if f.kind == "bool":
            return "bool"
        if f.kind in ("bytes", "mac"):
            return f"bytes:{n // 8}"
        return f"uint:{n}"

    def raw_text(self, f: Field) -> str:
        raw, n = self.raw(f), self.length(f)
        if f.kind in ("bytes", "mac"):
            return "0x" + raw.to_bytes(n // 8, "little").hex()
        return f"0x{raw:0{(n + 3) // 4}x}"

    def value(self, f: Field) -> tuple[Any, str]:
        """(JSON value, text) as a summary shows it; unreadable zero bits show as ``?``."""
        raw = self.raw(f)
        shown = self.support.format(f, raw, self)
        if shown is None:
            shown = generic_value(f, raw, self.length(f))
        if self.read_protected(f) and raw == 0:
            text = shown[1].replace("0", "?")
            return text, text
        return shown


def generic_value(f: Field, raw: int, n: int) -> tuple[Any, str]:
    if f.kind in ("bytes", "mac"):
        data = raw.to_bytes(n // 8, "little")
        text = ":".join(f"{b:02x}" for b in data) if f.kind == "mac" else " ".join(f"{b:02x}" for b in data)
        return text, text
    if raw in f.meanings:
        return f.meanings[raw], f.meanings[raw]
    if f.kind == "bool":
        return bool(raw), str(bool(raw))
    return raw, str(raw)


def parse_value(f: Field, text: str | None, n: int) -> int:
    """Raw bits for ``text`` given for field ``f`` of ``n`` bits (generic kinds)."""
    if f.kind in ("bytes", "mac"):
        if text is None:
            raise EfuseError(f"a value is required for {f.name}")
        t = text.strip()
        if f.kind == "mac" or ":" in t:
            t = t.replace(":", "").replace("-", "")
            rev = False
        else:
            rev = t.lower().startswith("0x")
            t = t[2:] if rev else t
        try:
            data = bytes.fromhex(t)
        except ValueError:
            raise EfuseError(f"{text!r} is not hex bytes", hint=f"{f.name} takes {n // 8} bytes in hex") from None
        if len(data) != n // 8:
            raise EfuseError(f"{f.name} takes {n // 8} bytes, {text!r} has {len(data)}")
        return int.from_bytes(data[::-1] if rev else data, "little")
    if text is None:
        if f.kind == "bool":
            return 1
        raise EfuseError(f"a value is required for {f.name}", hint=f"{f.name} is a {n}-bit number")
    try:
        v = int(text, 0)
    except ValueError:
        raise EfuseError(f"{text!r} is not a number for {f.name}", hint="decimal, 0x hex or 0b binary") from None
    if f.kind == "bool" and v != 1:
        raise EfuseError(f"{f.name} can only be burnt to 1 (eFuse bits only go 0 -> 1), given {text}")
    if v == 0:
        raise EfuseError(f"the value for {f.name} must not be 0", hint="burning 0 changes nothing")
    if v < 0 or v >> n:
        raise EfuseError(f"{text} does not fit {f.name} ({n} bits)", hint=f"use 1 to {(1 << n) - 1}")
    return v
