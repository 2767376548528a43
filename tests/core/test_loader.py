"""The protocol engine against a real pyserial port (loop://): the host reads what we put on the line."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from esptk.errors import CommandFailed, CommandTimeout, ProtocolError, UnsupportedCommand
from esptk.loader import Loader
from esptk.protocol import op, slip
from esptk.protocol.packets import request
from esptk_serial.port import SerialTransport


@pytest.fixture
def line() -> Iterator[SerialTransport]:
    t = SerialTransport.from_url("loop://", 115200)
    t.open()
    yield t
    t.close()


def reply(opcode: int, value: int = 0, data: bytes = b"", status: bytes = b"\0\0") -> bytes:
    body = data + status
    return slip.encode(struct.pack("<BBHI", 1, opcode, len(body), value) + body)


def test_boot_text_and_stale_replies_before_the_answer_are_skipped(line: SerialTransport) -> None:
    ld = Loader(line)
    line.write(b"ets Jan  8 2013,rst cause:2, boot mode:(1,6)\r\n" + reply(op.SYNC, 0x20120707) * 3
               + reply(op.READ_REG, 0xFFF0C101))
    assert ld.wait_reply(op.READ_REG).value == 0xFFF0C101
    assert b"boot mode" in ld.noise


def test_our_own_echoed_requests_are_not_mistaken_for_replies(line: SerialTransport) -> None:
    ld = Loader(line)
    ld.send_frame(request(op.READ_REG, struct.pack("<I", 0x40001000)))  # loop:// echoes it back
    line.write(reply(op.READ_REG, 0x00F01D83, status=b"\0\0\0\0"))
    assert ld.wait_reply(op.READ_REG).value == 0x00F01D83


def test_a_crash_report_on_the_line_is_named(line: SerialTransport) -> None:
    ld = Loader(line)
    line.write(b"Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n")
    with pytest.raises(ProtocolError, match="crashed: Guru Meditation Error"):
        ld.wait_reply(op.READ_REG, timeout=0.5)


def test_a_reply_cut_short_times_out_with_a_clear_message(line: SerialTransport) -> None:
    ld = Loader(line)
    line.write(reply(op.READ_REG, 1)[:7])
    with pytest.raises(CommandTimeout, match="middle of a packet"):
        ld.wait_reply(op.READ_REG, timeout=0.3)


def test_silence_times_out(line: SerialTransport) -> None:
    with pytest.raises(CommandTimeout, match="no reply to READ_REG within 0.2 s"):
        Loader(line).wait_reply(op.READ_REG, timeout=0.2)


def test_error_status_becomes_a_readable_error(line: SerialTransport) -> None:
    ld = Loader(line, status_bytes=4)
    line.write(reply(op.FLASH_DATA, 0x733, status=b"\x01\x07\0\0"))
    with pytest.raises(CommandFailed, match="FLASH_DATA failed: checksum mismatch") as e:
        ld.wait_reply(op.FLASH_DATA)
    assert e.value.status == 0x0107


def test_rom_answer_to_an_unknown_opcode_is_unsupported(line: SerialTransport) -> None:
    ld = Loader(line)
    line.write(reply(0x00, status=b"\x01\x05"))
    with pytest.raises(UnsupportedCommand, match="does not support SPI_FLASH_MD5"):
        ld.wait_reply(op.SPI_FLASH_MD5)


def test_stub_error_codes_read_as_stub_errors(line: SerialTransport) -> None:
    ld = Loader(line)
    ld.stub = True
    line.write(reply(op.FLASH_DEFL_DATA, status=b"\xc7\x00"))
    with pytest.raises(CommandFailed, match="inflate error"):
        ld.wait_reply(op.FLASH_DEFL_DATA)


def test_md5_reply_forms(line: SerialTransport) -> None:
    ld = Loader(line, status_bytes=4)
    digest = bytes(range(16))
    line.write(reply(op.SPI_FLASH_MD5, data=digest.hex().encode(), status=b"\0\0\0\0"))
    assert ld.wait_reply(op.SPI_FLASH_MD5, data_len=32).data == digest.hex().encode()
    ld.status_bytes = 2
    line.write(reply(op.SPI_FLASH_MD5, data=digest))
    assert ld.wait_reply(op.SPI_FLASH_MD5, data_len=16).data == digest


def test_a_reply_with_a_bad_length_is_a_protocol_error(line: SerialTransport) -> None:
    ld = Loader(line, status_bytes=4)
    line.write(reply(op.SPI_FLASH_MD5, status=b"\0\0\0\0"))  # status only: the 32 hex digits are missing
    with pytest.raises(ProtocolError, match="carries 4 bytes, expected 32 data"):
        ld.wait_reply(op.SPI_FLASH_MD5, data_len=32)
