"""Intel HEX: reading into contiguous pieces and writing with 16-byte data records."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ImageError


class HexError(ImageError):
    """The text is not valid Intel HEX."""


def looks_like_hex(data: bytes) -> bool:
    return data[:1] == b":"


def read_hex(data: bytes) -> list[tuple[int, bytes]]:
    """Parse Intel HEX; return ``(address, bytes)`` pieces sorted by address, split at gaps."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise HexError("not Intel HEX (non-ASCII content)") from None
    memory: dict[int, int] = {}
    base = 0
    ended = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if ended:
            raise HexError(f"Intel HEX line {lineno}: data after the end-of-file record")
        if not line.startswith(":") or len(line) < 11 or len(line) % 2 == 0:
            raise HexError(f"Intel HEX line {lineno}: malformed record")
        try:
            rec = bytes.fromhex(line[1:])
        except ValueError:
            raise HexError(f"Intel HEX line {lineno}: not hexadecimal") from None
        count, addr, rtype = rec[0], int.from_bytes(rec[1:3], "big"), rec[3]
        if len(rec) != count + 5:
            raise HexError(f"Intel HEX line {lineno}: length field does not match the record")
        if sum(rec) & 0xFF:
            raise HexError(f"Intel HEX line {lineno}: bad checksum")
        payload = rec[4:4 + count]
        if rtype == 0:
            start = base + addr
            for i, b in enumerate(payload):
                memory[start + i] = b
        elif rtype == 1:
            ended = True
        elif rtype == 2 and count == 2:
            base = int.from_bytes(payload, "big") << 4
        elif rtype == 4 and count == 2:
            base = int.from_bytes(payload, "big") << 16
        elif rtype in (3, 5) and count == 4:
            pass  # start address: not needed for flash content
        else:
            raise HexError(f"Intel HEX line {lineno}: unknown record type {rtype}")
    return _pieces(memory)


def _pieces(memory: dict[int, int]) -> list[tuple[int, bytes]]:
    pieces: list[tuple[int, bytes]] = []
    start = prev = -2
    buf = bytearray()
    for a in sorted(memory):
        if a != prev + 1:
            if buf:
                pieces.append((start, bytes(buf)))
            start, buf = a, bytearray()
        buf.append(memory[a])
        prev = a
    if buf:
        pieces.append((start, bytes(buf)))
    return pieces


def _record(rtype: int, addr: int, payload: bytes) -> str:
    rec = bytes([len(payload), (addr >> 8) & 0xFF, addr & 0xFF, rtype]) + payload
    return ":" + (rec + bytes([(-sum(rec)) & 0xFF])).hex().upper() + "\n"


def write_hex(pieces: Sequence[tuple[int, bytes]], record_size: int = 16) -> bytes:
    """Intel HEX text for the given non-overlapping ``(address, bytes)`` pieces.

    When any byte lies above 64 KiB, an extended linear address record opens the file and
    precedes every change of the upper 16 address bits; data records never cross a 64 KiB
    boundary or a gap.
    """
    lines: list[str] = []
    upper = None
    extended = any(start + len(data) - 1 > 0xFFFF for start, data in pieces if data)
    for start, data in sorted(pieces):
        pos = 0
        while pos < len(data):
            addr = start + pos
            if extended and upper != addr >> 16:
                upper = addr >> 16
                lines.append(_record(4, 0, upper.to_bytes(2, "big")))
            n = min(record_size, len(data) - pos, 0x10000 - (addr & 0xFFFF))
            lines.append(_record(0, addr & 0xFFFF, data[pos:pos + n]))
            pos += n
    lines.append(_record(1, 0, b""))
    return "".join(lines).encode("ascii")
