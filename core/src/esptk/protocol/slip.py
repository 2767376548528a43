"""SLIP framing (RFC 1055 as the ESP loaders use it): 0xC0 delimits, 0xDB escapes."""

from __future__ import annotations

from collections.abc import Iterator

END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD


def encode(payload: bytes) -> bytes:
    """One frame: C0, the escaped payload, C0."""
    body = payload.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


class SlipError(ValueError):
    pass


class SlipDecoder:
    """Incremental decoder. Feed bytes; collect complete frames and the noise seen between them.

    Bytes outside a frame are noise (boot log text, garbage); they are kept in ``noise`` so a host
    can report "Guru Meditation" or a boot mode. An invalid escape drops the frame being decoded
    and records the error in ``errors``; decoding goes on with the next frame.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self._escape = False
        self.noise = bytearray()
        self.errors: list[str] = []

    def reset(self) -> None:
        self._buf.clear()
        self._in_frame = False
        self._escape = False
        self.noise.clear()
        self.errors.clear()

    @property
    def in_frame(self) -> bool:
        """True while a frame has started but not ended."""
        return self._in_frame

    def feed(self, data: bytes) -> Iterator[bytes]:
        for b in data:
            if not self._in_frame:
                if b == END:
                    self._in_frame = True
                    self._buf.clear()
                else:
                    self.noise.append(b)
                continue
            if self._escape:
                self._escape = False
                if b == ESC_END:
                    self._buf.append(END)
                elif b == ESC_ESC:
                    self._buf.append(ESC)
                else:
                    self.errors.append(f"invalid SLIP escape 0xDB 0x{b:02X}")
                    self._in_frame = b == END
                    self._buf.clear()
                continue
            if b == ESC:
                self._escape = True
            elif b == END:
                if self._buf:
                    yield bytes(self._buf)
                    self._buf.clear()
                    self._in_frame = False
                # an empty frame (C0 C0): the second C0 starts the next frame
            else:
                self._buf.append(b)
