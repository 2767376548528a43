"""What an eFuse layout is: blocks, fields and coding schemes. Core knows no chip's eFuses.

Bit numbering: "block bit k" is bit ``k % 32`` of the block's word ``k // 32`` (words little-endian),
so block byte j holds bits 8j..8j+7 and a block's *data* is its words as little-endian bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import EsptkError


class EfuseError(EsptkError):
    """An eFuse operation was refused or failed (nothing half-done is hidden: see the report)."""


@dataclass(frozen=True)
class Block:
    """One eFuse block: where software reads and writes its words."""

    index: int
    name: str  #: "BLOCK0" ...
    read_addr: int
    write_addr: int
    words: int  #: words in the read registers (data length with no coding scheme)
    aliases: tuple[str, ...] = ()
    wr_dis: int | None = None  #: WR_DIS bit that protects the whole block
    rd_dis: int | None = None  #: RD_DIS bit that makes the whole block read as zero
    coded: bool = False  #: the chip's coding scheme applies to this block

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Field:
    """A named range of bits in one block.

    ``kind`` is how the bits are shown and parsed: ``bool``, ``uint``, ``bytes`` (memory order hex),
    ``mac`` (6 bytes), or a chip-specific class the chip's support formats (``spipin``, ``vref``, ...).
    ``bits = 0`` means "the whole data length of the block" (keys), which depends on the coding scheme.
    """

    name: str
    block: int
    word: int | None  #: None: a value the chip calculates (no bits of its own)
    pos: int | None
    bits: int
    kind: str
    category: str
    description: str = ""
    wr_dis: int | None = None
    rd_dis: int | None = None
    aliases: tuple[str, ...] = ()
    meanings: Mapping[int, str] = field(default_factory=dict)
    #: why this field can never be burned by name (factory MAC, calculated values); None: it can
    refuse: str | None = None

    @property
    def start(self) -> int:
        """First block bit."""
        return (self.word or 0) * 32 + (self.pos or 0)

    @property
    def calculated(self) -> bool:
        return self.word is None

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class CodingScheme:
    """How a coded block's data becomes the words written to its write registers.

    The default is "none": the data words are written as they are.
    """

    name = "NONE"

    def data_bytes(self, block: Block) -> int:
        return block.words * 4

    def encode(self, block: Block, data: bytes) -> list[int]:
        """Write-register words for ``data`` (``data_bytes`` long)."""
        data = data + bytes(-len(data) % 4)
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]

    def merge(self, block: Block, old: bytes, new: bytes) -> tuple[bytes, str | None]:
        """The bits to program for ``new`` over the burnt ``old``: (data, refusal or None).

        ``new`` already contains ``old``. The default programs only the new bits.
        """
        return bytes(n & ~o & 0xFF for o, n in zip(old, new)), None


@dataclass(frozen=True)
class Layout:
    """A chip's eFuse blocks and fields (in the order a summary lists them)."""

    blocks: Sequence[Block]  #: the first one holds the protection fields
    fields: Sequence[Field]
    #: the fields whose bit n write-protects / read-protects what names ``wr_dis=n`` / ``rd_dis=n``
    wr_dis_field: str = "WR_DIS"
    rd_dis_field: str = "RD_DIS"

    def block(self, name: str | int) -> Block:
        for b in self.blocks:
            if name == b.index or (isinstance(name, str) and name in b.names()):
                return b
        raise EfuseError(f"no eFuse block {name!r}",
                         hint="blocks: " + ", ".join(n for b in self.blocks for n in b.names()))

    def field(self, name: str) -> Field:
        for f in self.fields:
            if name in f.names():
                return f
        raise EfuseError(f"no eFuse named {name!r}", hint="esptk efuse summary lists every name")

    def find(self, name: str) -> Field | None:
        try:
            return self.field(name)
        except EfuseError:
            return None
