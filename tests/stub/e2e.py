"""Helpers for driving the stub under QEMU with esptk's own host code."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from esptk.plugins import Registry
from esptk.session import Session, connect

from .qemu_transport import QemuTransport

FLASH_SIZE = 4 << 20  # the fake NOR flash of stubs/test/sim_hal.c
EXIT_REBOOT = 0x42
EXIT_RUN_USER_CODE = 0x43
#: the stub's two test builds: program name, QEMU core, chip esptk should detect, GET_VERSION chip id
FLAVOURS = {
    "esp8266": ("sim-stub", "lx106", 0x8266, 0xFFF0C101),
    "esp32": ("sim-stub32", "de212", 0x32, 0x00F01D83),  # windowed start-up on a windowed core
}


def symbol(elf: Path, name: str) -> int:
    with open(elf, "rb") as f:
        tab = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(tab, SymbolTableSection)
        syms = tab.get_symbol_by_name(name)
        assert syms, name
        return int(syms[0]["st_value"])


@contextmanager
def stub_session(reg: Registry, elf: Path, cpu: str = "lx106",
                 icount: int | None = None) -> Iterator[tuple[Session, QemuTransport]]:
    t = QemuTransport(f"qemu://{elf}?cpu={cpu}" + (f"&icount={icount}" if icount is not None else ""), 115200)
    t.open()
    s = connect(reg, transport=t, chip="auto", before="no_reset", baud=115200)
    try:
        yield s, t
    finally:
        t.close()


def u32s(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)
