"""Compression off the critical path: the next region is compressed while the current one is sent.

zlib releases the GIL while it compresses, so one worker thread really runs beside the sending thread.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

LEVEL = 9


def pack(data: bytes) -> bytes | None:
    """``data`` as one zlib stream, or None where compressing does not make it shorter."""
    packed = zlib.compress(data, LEVEL)
    return packed if len(packed) < len(data) else None


def pack_ahead(datas: Sequence[bytes]) -> list[Future[bytes | None]]:
    """Start compressing every one of ``datas`` in order, in one background thread."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="esptk-pack")
    try:
        return [pool.submit(pack, d) for d in datas]
    finally:
        pool.shutdown(wait=False)  # the worker finishes the queue, then ends
