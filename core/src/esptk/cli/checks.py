"""Checks of command-line arguments and files, run before a command opens the port.

Each function turns a bad value into a one-line :class:`UsageError` (exit code 2) with a hint, so
that no command connects, uploads the stub and only then finds that its arguments were wrong.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import ChipError, UsageError
from ..fileio import parse_int

if TYPE_CHECKING:
    from ..chip import ChipSpec
    from .state import AppState

U32 = 0xFFFFFFFF
#: baud rates accepted by --baud (the virtual chip's range too)
BAUD_MIN, BAUD_MAX = 300, 8_000_000
SECTOR = 0x1000


def u32(text: str, what: str = "address") -> int:
    """A number that fits the 32 bits of the loader protocol (decimal or 0x hex, not negative)."""
    value = parse_int(text, what)
    if value > U32:
        raise UsageError(f"{what} {text} does not fit in 32 bits", hint="the largest value is 0xFFFFFFFF")
    return value


def size(text: str, what: str = "size") -> int:
    """A byte count above zero: decimal, 0x hex, or with a KB/MB suffix."""
    from ..chip import parse_size

    try:
        value = parse_size(text)
    except ChipError as e:
        raise UsageError(f"{what} {text!r} is not a size", hint=e.hint) from None
    if value <= 0:
        raise UsageError(f"{what} {text} is not above zero", hint="give a positive size, e.g. 0x1000 or 4KB")
    if value > U32:
        raise UsageError(f"{what} {text} does not fit in 32 bits", hint="the largest value is 0xFFFFFFFF")
    return value


def baud(value: int) -> int:
    """--baud (a typer callback: runs while the options are parsed, long before connecting)."""
    if not BAUD_MIN <= value <= BAUD_MAX:
        raise UsageError(f"baud rate {value} is out of range",
                         hint=f"use {BAUD_MIN} to {BAUD_MAX}, e.g. 115200 or 921600")
    return value


def chip(st: AppState) -> ChipSpec:
    """The chip named by --chip (a usage error if no plugin knows it)."""
    try:
        return st.registry.chip(st.chip)
    except ChipError as e:
        raise UsageError(e.message, e.hint) from None


def _chips(st: AppState) -> list[ChipSpec]:
    """The chip named by --chip, or every installed chip while it is still 'auto'."""
    return [chip(st)] if st.chip != "auto" else list(st.registry.chips.values())


def largest_flash(st: AppState) -> int:
    """The most flash any chip that may answer can address (the given chip's, else any chip's)."""
    return max((c.max_flash_size for c in _chips(st)), default=U32 + 1)


def table_top(chip: ChipSpec) -> int:
    """The largest flash size in the chip's header table (merge-bin output never needs more)."""
    from ..chip import parse_size

    return max(parse_size(name.split("-")[0]) for name in chip.flash_size_codes)


def flash_span(st: AppState, address: int, length: int, what: str) -> None:
    top = largest_flash(st)
    if address + length > top:
        raise UsageError(f"{what} 0x{address:x}+0x{length:x} ends past 0x{top:x}, the most flash the chip "
                         "can address", hint="check the address and the size")


def flash_param(st: AppState, value: str, option: str, table: str, extra: Iterable[str] = ("keep",)) -> None:
    """--flash-mode/--flash-freq/--flash-size: 'keep' (and the like) or a name the chip knows."""
    if value in extra:
        return
    names: list[str] = []
    for chip in _chips(st):
        names += [n for n in getattr(chip, table) if n not in names]
    if value not in names:
        raise UsageError(f"{option} {value!r} is not valid", hint="choose one of " + ", ".join([*extra, *names]))


def erase_span(address: int, length: int) -> None:
    if address % SECTOR or length % SECTOR:
        raise UsageError(f"erase region 0x{address:x}+0x{length:x} is not 4 KiB aligned",
                         hint="address and size must both be multiples of 0x1000")


def output_path(path: str) -> None:
    """A file the command may create or replace: refuse folders and missing folders up front."""
    hint = "name a file in an existing, writable folder"
    if not path:
        raise UsageError("the output file name is empty", hint=hint)
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a folder, not a file", hint=hint)
    if os.path.exists(path) and not os.path.isfile(path):
        raise UsageError(f"cannot write {path}: it is not a regular file", hint=hint)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: its folder does not exist", hint=hint)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot create {path}: the folder is not writable", hint=hint)


def tidy_option_error(e: Exception) -> None:
    """typer shows an option's environment variables as a Python list in its error messages
    ("(env var: '['ESPTK_BAUD', ...]')"): name the option, and the variables, plainly."""
    param = getattr(e, "param", None)
    opts = getattr(param, "opts", None)
    if not opts or not hasattr(e, "param_hint"):
        return
    hint = " / ".join(f"'{o}'" for o in [*opts, *getattr(param, "secondary_opts", [])])
    envvar = getattr(param, "envvar", None)
    if envvar:
        hint += " (or " + ", ".join([envvar] if isinstance(envvar, str) else list(envvar)) + ")"
    e.param_hint = hint
