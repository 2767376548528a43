"""esptk stub protocol: GET_VERSION reply layout and capability bits (contract A, protocol 2)."""

from __future__ import annotations

DEFLATE = 1 << 0
READ_FLASH = 1 << 1
ERASE = 1 << 2
MD5 = 1 << 3
RUN_USER_CODE = 1 << 4
BEGIN_20 = 1 << 5
IMMEDIATE_ERRORS = 1 << 6
#: data blocks are acknowledged on receipt; write errors come back, sticky, on later replies
STREAMING = 1 << 7
#: SECTOR_MD5 (0xE0): one MD5 per 4 KiB sector of a range
SECTOR_MD5 = 1 << 8
#: READ_FLASH's 4th word counts packets in flight, honoured up to read_window
READ_WINDOW = 1 << 9
#: FLASH_BEGIN/DEFL_BEGIN 20-byte form with word 5 = 1 writes through flash encryption (ESP32)
ENCRYPTED_WRITE = 1 << 10

#: GET_VERSION reply data: protocol 1 sends the first four u32 words, protocol 2 all six
V1_WORDS = ("protocol", "chip", "capabilities", "max_block")
V2_WORDS = V1_WORDS + ("max_in_flight", "read_window")
