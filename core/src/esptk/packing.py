"""Compression off the critical path: files are compressed while esptk connects, and the next region
while the current one is sent.

:func:`prefetch` starts compressing (in one worker thread, in order; zlib releases the GIL, so it
really runs beside the sending thread); :func:`packed` takes the result for the same bytes, or
compresses on the spot when nothing was started for them (a partial run, a ROM's padded sector).
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

LEVEL = 9
KEEP = 16  #: compressions kept for later pick-up (oldest dropped first)

_lock = threading.Lock()
_started: OrderedDict[int, tuple[bytes, Future[bytes | None]]] = OrderedDict()  #: by hash of the data


def pack(data: bytes) -> bytes | None:
    """``data`` as one zlib stream, or None where compressing does not make it shorter."""
    packed = zlib.compress(data, LEVEL)
    return packed if len(packed) < len(data) else None


def prefetch(datas: Sequence[bytes]) -> None:
    """Start compressing each of ``datas`` as a stub gets it (padded to 4 bytes), in order."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="esptk-pack")
    try:
        for d in datas:
            padded = d + b"\xff" * (-len(d) % 4)
            key = hash(padded)
            with _lock:
                if key in _started and _started[key][0] == padded:
                    continue
                _started[key] = (padded, pool.submit(pack, padded))
                while len(_started) > KEEP:
                    _started.popitem(last=False)
    finally:
        pool.shutdown(wait=False)  # the worker finishes the queue, then ends


def packed(data: bytes) -> bytes | None:
    """The compressed form of ``data``: what :func:`prefetch` started for these bytes, else now."""
    with _lock:
        known = _started.pop(hash(data), None)
    if known is not None and known[0] == data:
        return known[1].result()
    return pack(data)
