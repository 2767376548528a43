"""Request and response packets of the ROM loader and the stub (PROTOCOL.md sections 1.3–1.9).

Pure functions: nothing here touches a port.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import op

CHECKSUM_SEED = 0xEF
SYNC_PAYLOAD = b"\x07\x07\x12\x20" + b"\x55" * 32
OHAI = b"OHAI"
#: the greeting of esptk's stage-1 loader (StubImage.stage1; stubs/README.md "Two-stage start")
STAGE1_HI = b"S1HI"

ROM_ERRORS = {
    0x00: "undefined", 0x01: "invalid input parameter", 0x02: "out of memory", 0x03: "send failure",
    0x04: "receive failure", 0x05: "malformed message or unsupported command",
    0x06: "message OK but operation failed", 0x07: "checksum mismatch",
    0x08: "flash write error (read-back mismatch)", 0x09: "flash read error", 0x0A: "flash read length error",
    0x0B: "inflate failed", 0x0C: "inflate Adler-32 mismatch", 0x0D: "inflate parameter error",
    0x0E: "invalid RAM image size", 0x0F: "invalid RAM image address", 0x64: "invalid parameter",
    0x65: "invalid format", 0x66: "description too long", 0x67: "bad encoding description",
    0x69: "insufficient storage",
}
STUB_ERRORS = {
    0xC0: "bad data length", 0xC1: "bad data checksum", 0xC2: "bad block size", 0xC3: "invalid command",
    0xC4: "SPI operation failed", 0xC5: "SPI unlock failed", 0xC6: "not in flash mode",
    0xC7: "inflate error", 0xC8: "not enough data", 0xC9: "too much data", 0xFF: "command not implemented",
    0x32: "erase address not sector-aligned", 0x33: "erase length not sector-aligned",
    0x34: "flash unlock failed", 0x35: "sector erase failed", 0x36: "block erase failed",
    0x37: "chip erase failed", 0x63: "flash read failed",
}


def checksum(data: bytes, seed: int = CHECKSUM_SEED) -> int:
    """8-bit XOR of ``data`` seeded with 0xEF (also the image checksum)."""
    c = seed
    for b in data:
        c ^= b
    return c


def request(opcode: int, payload: bytes = b"", chk: int = 0) -> bytes:
    """A request packet before SLIP framing."""
    return struct.pack("<BBHI", 0, opcode, len(payload), chk) + payload


def data_payload(data: bytes, seq: int) -> bytes:
    """Payload of FLASH_DATA / MEM_DATA / FLASH_DEFL_DATA: length, sequence, 8 zero bytes, data."""
    return struct.pack("<IIII", len(data), seq, 0, 0) + data


@dataclass(frozen=True)
class Reply:
    opcode: int
    value: int
    body: bytes  #: everything after the 8-byte header (command data + status bytes)
    data: bytes = b""  #: the command data, once the status has been split off
    status: bytes = b""

    @property
    def failed(self) -> bool:
        return bool(self.status) and self.status[0] != 0

    @property
    def code(self) -> int:
        """16-bit code for display: first status byte << 8 | second."""
        s = self.status + b"\0\0"
        return s[0] << 8 | s[1]


def parse_reply(frame: bytes) -> Reply | None:
    """A response frame, or None if ``frame`` is not one (too short, or not direction 1)."""
    if len(frame) < 8 or frame[0] != 1:
        return None
    _d, opcode, size, value = struct.unpack_from("<BBHI", frame)
    return Reply(opcode, value, frame[8 : 8 + size] if size <= len(frame) - 8 else frame[8:])


def split_status(reply: Reply, status_bytes: int, data_len: int = 0) -> Reply:
    """Split command data and status bytes. Status sits right after ``data_len`` bytes of data;
    a reply too short for that carries its status in its first bytes (an error reply)."""
    body = reply.body
    if len(body) >= data_len + 2:
        status = body[data_len : data_len + status_bytes]
        data = body[:data_len]
    else:
        status, data = body[:status_bytes], b""
    return Reply(reply.opcode, reply.value, body, data, status)


def describe_status(reply: Reply, stub: bool) -> str:
    s = reply.status + b"\0\0"
    if stub:
        text = STUB_ERRORS.get(s[0], "unknown stub error")
    else:
        text = ROM_ERRORS.get(s[1], "unknown ROM error")
    return f"{op.name(reply.opcode)} failed: {text} (status {reply.code:04x})"


def is_unsupported(reply: Reply) -> bool:
    """The ROM's and stubs' answers to an opcode they do not implement."""
    s = reply.status + b"\0\0"
    return (s[0] == 1 and s[1] == 0x05) or s[0] in (0xC3, 0xFF)
