"""Reading ELF files (32-bit little-endian; section and program headers, parsed with struct).

Accepted: 32-bit little-endian ELF for Xtensa (0x5E) or RISC-V (0xF3) with section headers of the
standard 40-byte size. Loadable content is taken either from sections (default) or from PT_LOAD
program headers (``use_segments``); each piece is zero-padded to a multiple of 4 bytes.
"""

from __future__ import annotations

import hashlib
import os
import struct

from ..errors import ImageError, UsageError
from .model import Segment
from .segments import pad_to

ELF_MAGIC = b"\x7fELF"
MACHINES = {0x5E: "Xtensa", 0xF3: "RISC-V"}
#: section types whose content is loaded: PROGBITS, INIT_ARRAY, FINI_ARRAY, PREINIT_ARRAY
LOADED_TYPES = {1, 0x0E, 0x0F, 0x10}
#: section types skipped silently: NULL, SYMTAB, STRTAB, RELA, HASH, DYNAMIC, NOTE, NOBITS, REL, DYNSYM
QUIET_TYPES = {0, 2, 3, 4, 5, 6, 7, 8, 9, 11}
PT_LOAD = 1


class BadInputFile(ImageError, UsageError):
    """An input file that is not what the command needs (missing, not an ELF, truncated)."""


class ElfFile:
    """Loadable content, entry point and SHA-256 of one ELF file."""

    def __init__(self, data: bytes, name: str = "<elf>") -> None:
        self.name = name
        self.data = data
        self.warnings: list[str] = []
        self._given: list[Segment] | None = None
        self._sections: list[tuple[str, int, int, int, int]] = []
        self._phdrs: list[tuple[int, int, int, int]] = []
        self.machine: int | None = None  #: e_machine; None for :meth:`from_segments`
        self._check_header()
        self.entry = self._parse()

    @classmethod
    def load(cls, path: str) -> ElfFile:
        from ..fileio import NotRegularFile, read_regular

        try:
            data = read_regular(path)
        except NotRegularFile:
            raise BadInputFile(f"cannot read {path}: not a regular file",
                               hint="name a file, not a FIFO or device") from None
        except OSError as e:
            raise BadInputFile(f"cannot read {path}: {e.strerror or e}", hint="check the file name") from None
        return cls(data, os.path.basename(path))

    @classmethod
    def from_segments(cls, segments: list[Segment], entry: int, name: str = "<segments>") -> ElfFile:
        """Stand-in for an ELF whose loadable content is exactly ``segments`` (``make-image``)."""
        obj = cls.__new__(cls)
        obj.name, obj.data, obj.warnings, obj.entry = name, b"", [], entry
        obj.machine = None
        obj._sections, obj._phdrs = [], []
        obj._given = list(segments)
        return obj

    @property
    def sha256(self) -> bytes:
        return hashlib.sha256(self.data).digest()

    def _fail(self, why: str) -> BadInputFile:
        return BadInputFile(f"{self.name}: {why}",
                            hint="give the ELF file your build produced (e.g. build/app.elf), not a .bin")

    def _check_header(self) -> None:
        d = self.data
        if d[:4] != ELF_MAGIC:
            raise self._fail("not an ELF file (no ELF magic)")
        if len(d) < 52:
            raise self._fail("truncated ELF header")
        if d[4] != 1 or d[5] != 1:
            raise self._fail("not a 32-bit little-endian ELF file")
        machine, = struct.unpack_from("<H", d, 18)
        if machine not in MACHINES:
            raise self._fail(f"unsupported ELF machine 0x{machine:x} (want Xtensa or RISC-V)")
        self.machine = machine
        shoff, = struct.unpack_from("<I", d, 32)
        shentsize, shnum = struct.unpack_from("<HH", d, 46)
        if shentsize != 0x28:
            raise self._fail(f"unexpected section header size {shentsize}")
        if shnum == 0:
            raise self._fail("no section headers")
        if shoff + shnum * shentsize > len(d):
            raise self._fail("truncated (section headers lie beyond the end of the file)")

    def require_machine(self, machine: int, chip: str) -> None:
        """Refuse an ELF built for another architecture than ``machine`` (an e_machine value)."""
        if self.machine is None or self.machine == machine:
            return
        have = MACHINES.get(self.machine, f"machine 0x{self.machine:x}")
        want = MACHINES.get(machine, f"machine 0x{machine:x}")
        raise BadInputFile(f"{self.name} is built for {have}, but {chip} runs {want} code",
                           hint="give the ELF built for this chip, or pick the right --chip")

    def _parse(self) -> int:
        """Section and program headers of a 32-bit little-endian ELF (struct only: pyelftools costs
        ~70 ms to import, most of a whole ``elf2image`` run)."""
        d = self.data
        try:
            entry, phoff, shoff = struct.unpack_from("<III", d, 24)
            phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", d, 42)
            headers = [struct.unpack_from("<10I", d, shoff + i * shentsize) for i in range(shnum)]
            names = b""
            if 0 < shstrndx < shnum:
                _n, _t, _f, _a, str_off, str_size, *_rest = headers[shstrndx]
                names = self._slice("section name table", str_off, str_size)
            self._sections = [(_name(names, h[0]), h[1], h[3], h[4], h[5]) for h in headers]
            if phnum and phentsize < 32:
                raise ValueError(f"program header size {phentsize} is too small")
            self._phdrs = []
            for i in range(phnum):
                ptype, offset, _vaddr, paddr, filesz = struct.unpack_from("<5I", d, phoff + i * phentsize)
                self._phdrs.append((ptype, paddr, offset, filesz))
            return int(entry)
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as e:
            raise self._fail(f"cannot parse: {e}") from None

    def _slice(self, what: str, offset: int, size: int) -> bytes:
        if offset + size > len(self.data):
            raise self._fail(f"truncated ({what} lies beyond the end of the file)")
        return self.data[offset:offset + size]

    def sections(self) -> list[Segment]:
        """Loadable sections (non-zero address and size), in file order."""
        out = []
        for name, stype, addr, offset, size in self._sections:
            if stype in LOADED_TYPES:
                if addr and size:
                    out.append(Segment(addr, pad_to(self._slice(f"section {name}", offset, size), 4), name))
            elif stype not in QUIET_TYPES and addr:
                self.warnings.append(f"skipping section {name} of unknown type 0x{stype:x}")
        return out

    def program_segments(self) -> list[Segment]:
        """PT_LOAD program headers with a non-zero physical address and file size."""
        out = []
        for i, (ptype, paddr, offset, filesz) in enumerate(self._phdrs):
            if ptype == PT_LOAD and paddr and filesz:
                out.append(Segment(paddr, pad_to(self._slice(f"segment {i}", offset, filesz), 4), f"PT_LOAD{i}"))
        return out

    def loadable(self, use_segments: bool = False) -> list[Segment]:
        if self._given is not None:
            return list(self._given)
        return self.program_segments() if use_segments else self.sections()


def _name(table: bytes, offset: int) -> str:
    if offset >= len(table):
        return "" if not table else f"<name at {offset}>"
    end = table.find(b"\0", offset)
    return table[offset : end if end >= 0 else len(table)].decode("utf-8", "replace")
