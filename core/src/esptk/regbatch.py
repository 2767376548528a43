"""Fewer commands for register sequences: a stub takes several WRITE_REG records in one request.

:class:`BatchedRegisters` collects writes and sends them as one WRITE_REG (16 bytes per record,
PROTOCOL.md §2.1: stubs accept any multiple of 16) just before the next read, or at :meth:`flush`;
the order of reads and writes on the chip is the order the caller used.
"""

from __future__ import annotations

import struct
from types import TracebackType

from .loader import Loader
from .protocol import op


class BatchedRegisters:
    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.records: list[bytes] = []

    def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF, delay_us: int = 0) -> None:
        self.records.append(struct.pack("<IIII", addr, value, mask, delay_us))

    def read_reg(self, addr: int) -> int:
        self.flush()
        return self.loader.read_reg(addr)

    def flush(self) -> None:
        if self.records:
            payload, self.records = b"".join(self.records), []
            self.loader.command(op.WRITE_REG, payload)

    def __enter__(self) -> BatchedRegisters:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.flush()
