"""eFuses as a chip capability: layouts, snapshots and checked burns (no chip named here).

A chip plugin answers the ``esptk_efuse`` hook with an :class:`EfuseSupport`; the ``esptk efuse``
commands work on any chip whose plugin does.
"""

from __future__ import annotations

from .burn import BurnFailed, BurnPlan, BurnReport
from .layout import Block, CodingScheme, EfuseError, Field, Layout
from .state import EfuseSupport, Snapshot, generic_value, parse_value

__all__ = [
    "Block", "BurnFailed", "BurnPlan", "BurnReport", "CodingScheme", "EfuseError", "EfuseSupport", "Field",
    "Layout", "Snapshot", "generic_value", "parse_value",
]
