"""A tiny ELF32 (Xtensa, little-endian) writer for tests: PROGBITS sections and PT_LOAD headers."""

from __future__ import annotations

import struct


def make_elf(sections: list[tuple[str, int, bytes]], entry: int = 0x40080000) -> bytes:
    """An ELF file whose loadable sections are ``(name, address, data)``, each with a PT_LOAD."""
    names = b"\x00" + b"".join(n.encode() + b"\x00" for n, _, _ in sections) + b".shstrtab\x00"
    ehsize, phentsize, shentsize = 52, 32, 40
    phoff = ehsize
    data_off = phoff + phentsize * len(sections)
    blobs = bytearray()
    offsets = []
    for _, _, data in sections:
        offsets.append(data_off + len(blobs))
        blobs += data
        blobs += b"\x00" * (-len(blobs) % 4)
    strtab_off = data_off + len(blobs)
    shoff = strtab_off + len(names) + (-len(names) % 4)
    shnum = len(sections) + 2
    out = bytearray(b"\x7fELF\x01\x01\x01" + bytes(9))
    out += struct.pack("<HHIIIIIHHHHHH", 2, 0x5E, 1, entry, phoff, shoff, 0, ehsize, phentsize,
                       len(sections), shentsize, shnum, shnum - 1)
    for (_, addr, data), off in zip(sections, offsets, strict=True):
        out += struct.pack("<8I", 1, off, addr, addr, len(data), len(data), 7, 4)
    out += blobs + names + b"\x00" * (shoff - strtab_off - len(names))
    out += bytes(shentsize)
    name_pos = 1
    for (name, addr, data), off in zip(sections, offsets, strict=True):
        out += struct.pack("<10I", name_pos, 1, 6, addr, off, len(data), 0, 0, 4, 0)
        name_pos += len(name) + 1
    out += struct.pack("<10I", name_pos, 3, 0, 0, strtab_off, len(names), 0, 0, 1, 0)
    return bytes(out)
