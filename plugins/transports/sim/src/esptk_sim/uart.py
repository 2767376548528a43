"""What a UART receiver makes of bytes sent at another baud rate (8N1, deterministic)."""

from __future__ import annotations

#: receivers tolerate a few percent of rate error
TOLERANCE = 0.03


def same_rate(a: int, b: int) -> bool:
    return abs(a - b) <= TOLERANCE * max(a, b)


def resample(data: bytes, tx_baud: int, rx_baud: int) -> bytes:
    """The bytes an 8N1 receiver at ``rx_baud`` decodes from ``data`` sent at ``tx_baud``.

    The line idles high; the receiver waits for a low level (start bit), samples the 8 data bits
    and the stop bit in the middle of its own bit times, and emits every byte it framed (framing
    errors included, as most UART drivers do).
    """
    if not data or same_rate(tx_baud, rx_baud):
        return bytes(data)
    bits: list[int] = []
    for b in data:
        bits.append(0)
        bits.extend((b >> i) & 1 for i in range(8))
        bits.append(1)
    n = len(bits)
    ratio = tx_baud / rx_baud  # one receiver bit, in sender bit times

    def level(t: float) -> int:
        i = int(t)
        return bits[i] if i < n else 1

    out = bytearray()
    t = 0.0
    while t < n:
        if level(t) != 0:
            i = int(t) + 1
            while i < n and bits[i] != 0:
                i += 1
            if i >= n:
                break
            t = float(i)
        value = 0
        for k in range(8):
            value |= level(t + ratio * (k + 1.5)) << k
        out.append(value)
        t += ratio * 9.5
    return bytes(out)
