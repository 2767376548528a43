"""Check a linked stub ELF and turn it into an esptk StubImage (pyelftools)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection


class ElfCheckError(Exception):
    """The ELF breaks a placement rule."""


def _sections(elf: ELFFile) -> dict[str, Any]:
    return {s.name: s for s in elf.iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"]}


def _inside(lo: int, hi: int, window: tuple[int, int]) -> bool:
    return window[0] <= lo and hi <= window[1]


def check_elf(path: Path, iram: tuple[int, int], dram: tuple[int, int], stack_bound: int) -> dict[str, int]:
    """Enforce: code fits the IRAM window, only code there, data/bss in DRAM, room for the stack."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        secs = _sections(elf)
        unknown = set(secs) - {".text", ".data", ".bss"}
        if unknown:
            raise ElfCheckError(f"unexpected allocated sections: {sorted(unknown)}")
        text = secs[".text"]
        lo, hi = text["sh_addr"], text["sh_addr"] + text["sh_size"]
        if not _inside(lo, hi, iram):
            raise ElfCheckError(f".text {lo:#x}-{hi:#x} does not fit IRAM {iram[0]:#x}-{iram[1]:#x}")
        for name in (".data", ".bss"):
            s = secs.get(name)
            if s is not None and not _inside(s["sh_addr"], s["sh_addr"] + s["sh_size"], dram):
                raise ElfCheckError(f"{name} at {s['sh_addr']:#x} is not in DRAM")
        symtab = elf.get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            raise ElfCheckError("no symbol table")
        syms = {s.name: s["st_value"] for s in symtab.iter_symbols()}
        for s in symtab.iter_symbols():
            if s["st_info"]["type"] == "STT_OBJECT" and lo <= s["st_value"] < hi:
                raise ElfCheckError(f"data object {s.name} placed in IRAM")
        if "_stack_top" not in syms or "_bss_end" not in syms:
            raise ElfCheckError("the linker script defines no _stack_top/_bss_end")
        room = syms["_stack_top"] - syms["_bss_end"]
        if room < stack_bound:
            raise ElfCheckError(f"stack room {room} bytes < bound {stack_bound}")
        data = secs.get(".data")
        bss = secs.get(".bss")
        return {
            "text_size": text["sh_size"],
            "data_size": data["sh_size"] if data is not None else 0,
            "bss_size": bss["sh_size"] if bss is not None else 0,
            "stack_room": room,
        }


def elf_to_stub(path: Path, protocol_version: int, build: dict[str, Any]) -> Any:
    """A StubImage (esptk.stub) when esptk is importable, else an object with the same to_json."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        secs = _sections(elf)
        text = secs[".text"]
        data = secs.get(".data")
        bss = secs.get(".bss")
        fields = {
            "entry": elf.header["e_entry"],
            "text_start": text["sh_addr"],
            "text": text.data(),
            "data_start": data["sh_addr"] if data is not None else (bss["sh_addr"] if bss is not None else 0),
            "data": data.data() if data is not None else b"",
            "bss_start": bss["sh_addr"] if bss is not None else None,
            "protocol_version": protocol_version,
            "build": build,
        }
    try:
        from esptk.stub import StubImage
    except ImportError:
        return _PlainStub(fields)
    return StubImage(**fields)


class _PlainStub:
    """Same JSON as StubImage.to_json, for running the build without esptk installed."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def to_json(self) -> str:
        d = dict(self.fields)
        d["text"] = base64.b64encode(d["text"]).decode()
        d["data"] = base64.b64encode(d["data"]).decode()
        return json.dumps(d, indent=1, sort_keys=True) + "\n"
