"""The SFDP table a serial NOR flash answers to the RDSFDP command (0x5A).

JEDEC JESD216 (revision 1.0): an 8-byte SFDP header ("SFDP", revision 1.0, one parameter
header), one parameter header pointing at the 9-DWORD Basic Flash Parameter Table, and the table
itself, describing a Winbond-style part of the configured size: uniform 4 KiB erase with opcode
0x20, 32 KiB (0x52) and 64 KiB (0xD8) erase types, 1-1-2, 1-2-2, 1-1-4 and 1-4-4 fast reads, 3-byte
addresses up to 16 MiB and 3- or 4-byte addresses above. Bytes past the table read 0xFF.
"""

from __future__ import annotations

import struct

SIGNATURE = b"SFDP"  #: 0x50444653 as a little-endian word
TABLE_OFFSET = 0x30
BASIC_DWORDS = 9


def basic_table(size: int) -> bytes:
    """The 9 DWORDs of the Basic Flash Parameter Table for a flash of ``size`` bytes."""
    bits = size * 8
    address_bytes = 0b01 if size > 16 * 1024 * 1024 else 0b00  # 3 or 4 bytes / 3 bytes only
    dword1 = (0b01  # 4 KiB erase available everywhere
              | 1 << 2  # write granularity 64 bytes or more
              | 0b111 << 5  # unused bits read 1
              | 0x20 << 8  # 4 KiB erase opcode
              | 1 << 16  # 1-1-2 fast read
              | address_bytes << 17
              | 1 << 20 | 1 << 21 | 1 << 22  # 1-2-2, 1-4-4, 1-1-4 fast read
              | 0x1FF << 23)  # unused bits read 1
    if bits <= 1 << 31:
        dword2 = bits - 1
    else:
        dword2 = 1 << 31 | (bits.bit_length() - 1)
    dword3 = 0x6B08EB44  # 1-4-4: 4 dummy + 2 mode clocks, opcode 0xEB; 1-1-4: 8 dummy, opcode 0x6B
    dword4 = 0xBB423B08  # 1-1-2: 8 dummy, opcode 0x3B; 1-2-2: 2 dummy + 2 mode clocks, opcode 0xBB
    dword5 = 0xFFFFFFEE  # no 2-2-2, no 4-4-4
    dword6 = 0xFF00FFFF  # 2-2-2 (unsupported)
    dword7 = 0xFF00FFFF  # 4-4-4 (unsupported)
    dword8 = 0x520F200C  # erase type 1: 2^12 bytes, 0x20; type 2: 2^15 bytes, 0x52
    dword9 = 0xFF00D810  # erase type 3: 2^16 bytes, 0xD8; type 4: none
    return struct.pack("<9I", dword1, dword2, dword3, dword4, dword5, dword6, dword7, dword8, dword9)


def sfdp_image(size: int) -> bytes:
    header = SIGNATURE + bytes((0x00, 0x01, 0x00, 0xFF))  # minor 0, major 1, 1 parameter header, protocol
    param = bytes((0x00, 0x00, 0x01, BASIC_DWORDS)) + TABLE_OFFSET.to_bytes(3, "little") + b"\xff"
    body = header + param
    return body.ljust(TABLE_OFFSET, b"\xff") + basic_table(size)


def sfdp_read(size: int, addr: int, length: int) -> bytes:
    """``length`` bytes of the SFDP space from ``addr`` (0xFF past the table)."""
    image = sfdp_image(size)
    return image[addr: addr + length].ljust(length, b"\xff")
