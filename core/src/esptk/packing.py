"""Compression off the critical path: files are compressed while esptk connects, and the next region
while the current one is sent.

zlib releases the GIL while it compresses, so one worker thread really runs beside the sending thread.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

LEVEL = 9

_lock = threading.Lock()
_started: dict[int, tuple[bytes, Future[bytes | None]]] = {}  #: by hash of the data: (data, its packing)


def pack(data: bytes) -> bytes | None:
    """``data`` as one zlib stream, or None where compressing does not make it shorter."""
    packed = zlib.compress(data, LEVEL)
    return packed if len(packed) < len(data) else None


def _submit(pool: ThreadPoolExecutor, data: bytes) -> Future[bytes | None]:
    with _lock:
        known = _started.pop(hash(data), None)
    if known is not None and known[0] == data:
        return known[1]
    return pool.submit(pack, data)


def pack_ahead(datas: Sequence[bytes]) -> list[Future[bytes | None]]:
    """Compress every one of ``datas`` in order, in one background thread (reusing what
    :func:`prefetch` already started for the same bytes)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="esptk-pack")
    try:
        return [_submit(pool, d) for d in datas]
    finally:
        pool.shutdown(wait=False)  # the worker finishes the queue, then ends


def prefetch(datas: Sequence[bytes]) -> None:
    """Start compressing files before the chip is even connected (as a stub would get them: padded
    to 4 bytes); :func:`pack_ahead` picks the results up if the bytes to write turn out the same."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="esptk-prefetch")
    try:
        for d in datas:
            padded = d + b"\xff" * (-len(d) % 4)
            with _lock:
                _started[hash(padded)] = (padded, pool.submit(pack, padded))
    finally:
        pool.shutdown(wait=False)
