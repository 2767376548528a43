"""Data blocks in flight: writing to a stub that acknowledges on receipt (esptk stub protocol 2).

A stub that advertises ``caps.STREAMING`` checks each FLASH_DATA/FLASH_DEFL_DATA block, replies, and
erases/inflates/programs afterwards; it lets the host keep ``max_in_flight`` blocks unanswered. A
write error found later comes back as the status of a later reply (and of every one after it until
the next BEGIN), so a failure is named by the range of flash the blocks still in the stub's hands
cover, not by the block whose reply carried it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import CommandFailed
from .protocol import caps, op
from .protocol import timeouts as T
from .protocol.packets import checksum, data_payload, describe_status, request
from .session import Session


@dataclass(frozen=True)
class Window:
    """What the running loader allows: blocks in flight (1 = stop-and-wait) and READ_FLASH packets;
    ``streaming``: it acknowledges on receipt and reports write errors on later replies."""

    blocks: int = 1
    read_packets: int = 1
    streaming: bool = False


def window_of(s: Session) -> Window:
    """The running loader's window: only our stub (protocol 2) streams; every other loader is stop-and-wait
    (esptool's stubs also acknowledge early, but their errors are handled block by block as before)."""
    v = s.stub_version
    if v is None or not s.stub:
        return Window()
    streaming = bool(v.capabilities & caps.STREAMING)
    blocks = v.max_in_flight if streaming else 1
    packets = v.read_window if v.capabilities & caps.READ_WINDOW else 1
    return Window(max(1, blocks), max(1, packets), streaming)


def send_blocks(s: Session, opcode: int, blocks: Sequence[bytes], ends: Sequence[int], addr: int,
                window: int) -> None:
    """Send ``blocks`` (sequence numbers 0, 1, ...) keeping up to ``window`` replies outstanding.

    ``ends[i]``: bytes of flash the region holds once block ``i`` is written (uncompressed), for
    progress and for naming the flash a deferred error concerns; ``addr``: the region's address.
    """
    ld = s.loader
    sent = answered = 0
    packed: list[int] | None = None  #: compressed bytes sent once block i is answered
    if opcode == op.FLASH_DEFL_DATA:
        packed, total = [], 0
        for b in blocks:
            total += len(b)
            packed.append(total)
    while answered < len(blocks):
        while sent < len(blocks) and sent - answered < window:
            block = blocks[sent]
            ld.send_frame(request(opcode, data_payload(block, sent), checksum(block)))
            sent += 1
        # the stub may still be working on every block it acknowledged, plus the ones in flight
        first_open = max(0, answered - window)
        pending = ends[sent - 1] - (ends[first_open - 1] if first_open else 0)
        reply = ld.wait_reply(opcode, T.stub_defl_block(pending), check=False)
        if reply.failed:
            lo = ends[first_open - 1] if first_open else 0
            hi = ends[answered]
            raise CommandFailed(
                f"{describe_status(reply, True)}, reported on block {answered}: the failure lies in writing "
                f"0x{addr + lo:08x}-0x{addr + hi - 1:08x}", reply.code)
        answered += 1
        s.progress.advance(ends[answered - 1], compressed=packed[answered - 1] if packed else None)


def finish(s: Session, opcode: int, ends: Sequence[int], addr: int, window: int, timeout: float) -> None:
    """FLASH_END/FLASH_DEFL_END(1): the barrier that reports a write error of the last blocks."""
    reply = s.loader.command(opcode, b"\x01\0\0\0", timeout=timeout, check=False)
    if reply.failed:
        first_open = max(0, len(ends) - 1 - window)
        lo = ends[first_open - 1] if first_open else 0
        raise CommandFailed(f"{describe_status(reply, True)}, reported at the end: the failure lies in writing "
                            f"0x{addr + lo:08x}-0x{addr + ends[-1] - 1:08x}", reply.code)

