"""Core's own hook implementations (registered first, answering last)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import hookimpl

if TYPE_CHECKING:  # imported where used: image commands load this plugin too, and need none of them
    from .chip import ChipSpec
    from .flashproto import FlashProtocol
    from .reset import ResetSequence
    from .transport import Capability


@hookimpl(trylast=True)
def esptk_reset_sequences(
    mode: str, capabilities: Capability, chip: ChipSpec | None
) -> Sequence[ResetSequence]:
    from . import reset
    from .transport import Capability

    if not capabilities & Capability.CONTROL_LINES:
        return []
    if mode == "default_reset":
        seqs = [reset.CLASSIC, reset.CLASSIC_SLOW]
        if os.name == "posix" and capabilities & Capability.ATOMIC_LINES:
            seqs = [reset.TIGHT, reset.TIGHT_SLOW, *seqs]
        return seqs
    if mode == "esp32r0":
        return [reset.ESP32R0, reset.CLASSIC]
    if mode == "hard_reset":
        return [reset.HARD_RESET]
    return []


@hookimpl(trylast=True)
def esptk_flash_protocol(chip: ChipSpec, stub: bool) -> FlashProtocol:
    from .flashproto import FlashProtocol

    return FlashProtocol.default_for(chip, stub)
