"""Command timeouts (PROTOCOL.md section 2.4). Seconds; MB = 10**6 bytes."""

from __future__ import annotations

import math

DEFAULT = 3.0
SYNC = 0.1
CHIP_ERASE = 120.0
MAX = 240.0
ERASE_REGION_PER_MB = 40.0
ERASE_WRITE_PER_MB = 40.0
MD5_PER_MB = 8.0
MEM_END_ROM = 0.2
READ_PACKET = 3.0
STUB_GREETING = 3.0
#: how long one write to the port may block (esptool's serial_write_timeout); read by transports
#: whose writes can time out when they open
SERIAL_WRITE = 10.0
#: the stage-1 loader has nothing to set up: it greets within milliseconds of the MEM_END reply
STAGE1_GREETING = 1.0


def scaled(per_mb: float, size: int) -> float:
    """``max(3 s, per_mb × size)``, clamped to the 240 s maximum."""
    return min(MAX, max(DEFAULT, per_mb * size / 1e6))


def stub_defl_block(uncompressed: int) -> float:
    """Timeout for the block after a compressed block that inflated to ``uncompressed`` bytes:
    the stub acknowledges early and is still writing (and erasing ahead) the previous one."""
    extra = (math.ceil(uncompressed / 32768) + 1) * 65536
    return scaled(ERASE_WRITE_PER_MB, uncompressed + extra)
