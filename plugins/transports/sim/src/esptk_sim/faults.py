"""Deterministic line faults: drop, corrupt or delay bytes; reset or silence the chip.

Every decision comes from one ``random.Random(seed)`` and byte counters, so the same options and
the same traffic give the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultOptions:
    drop_rate: float = 0.0  #: probability that a byte is lost
    corrupt_rate: float = 0.0  #: probability that a byte gets one bit flipped
    delay_rate: float = 0.0  #: probability that a chunk is held back by ``delay``
    delay: float = 0.0  #: seconds added to a delayed chunk
    drop_at: int | None = None  #: byte offset (in the faulted direction) that is lost
    corrupt_at: int | None = None  #: byte offset that gets a bit flipped
    delay_at: int | None = None  #: byte offset whose chunk is held back by ``delay``
    reset_at: int | None = None  #: the chip resets when it has received this many bytes
    hang_at: int | None = None  #: the chip stops answering after receiving this many bytes
    direction: str = "tx"  #: which stream the byte faults hit: tx (chip→host), rx or both
    seed: int = 0

    @property
    def active(self) -> bool:
        return any((self.drop_rate, self.corrupt_rate, self.delay_rate, self.drop_at is not None,
                    self.corrupt_at is not None, self.delay_at is not None))


class FaultInjector:
    def __init__(self, options: FaultOptions) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.offsets = {"tx": 0, "rx": 0}

    def apply(self, data: bytes, stream: str) -> tuple[bytes, float]:
        """Faulted ``data`` of ``stream`` ("tx" or "rx") and the extra delay in seconds."""
        o = self.options
        start = self.offsets[stream]
        self.offsets[stream] += len(data)
        if not o.active or o.direction not in (stream, "both"):
            return data, 0.0
        out = bytearray()
        for i, b in enumerate(data):
            pos = start + i
            if pos == o.drop_at or (o.drop_rate and self.rng.random() < o.drop_rate):
                continue
            if pos == o.corrupt_at or (o.corrupt_rate and self.rng.random() < o.corrupt_rate):
                b ^= 1 << self.rng.randrange(8)
            out.append(b)
        hit = o.delay_at is not None and start <= o.delay_at < start + len(data)
        delay = o.delay if hit or (o.delay_rate and self.rng.random() < o.delay_rate) else 0.0
        return bytes(out), delay
