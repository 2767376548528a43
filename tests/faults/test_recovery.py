"""Recovery from single, placed faults: the retry speaks to the loader that really runs, and
nothing a loader cannot check is assumed.

Each case writes to a virtual chip whose flash is filled with random bytes and then checks the
whole flash (tests/faults/campaign.py): the region must hold the data if the write says so, and
nothing outside the sectors the loader announced may change.
"""

from __future__ import annotations

import random

import pytest

from esptk.flasher import Region, write_flash
from esptk.plugins import make_plugin_manager
from esptk.session import connect

from .campaign import Case, run_case


def data(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def tx_offset_of_last_block_reply(chip: str, stub: bool, address: int, payload: bytes) -> int:
    """Where, in what the chip sends, the reply to the region's last data block starts (clean run)."""
    from esptk_sim.transport import SimTransport

    t = SimTransport(f"sim://{chip}?flash_size=1MB", 115200)
    t.open()
    s = connect(make_plugin_manager(), chip=chip, use_stub=stub, transport=t)
    starts: list[int] = []
    send = s.loader.send_frame

    def spy(packet: bytes) -> None:
        if packet[1] in (0x03, 0x11):  # FLASH_DATA, FLASH_DEFL_DATA
            assert t.chip is not None
            starts.append(t.chip.faults.offsets["tx"])
        send(packet)

    s.loader.send_frame = spy  # type: ignore[method-assign]
    write_flash(s, [Region(address, payload)])
    t.chip = None
    return starts[-1]


def test_esp8266_rom_never_assumes_that_a_block_whose_reply_was_lost_arrived() -> None:
    """The reply to the last block is damaged: the ROM refuses a second copy, and as it cannot
    check the flash, the whole region is written again instead of "the first copy arrived"."""
    payload = data(0x1000)
    at = tx_offset_of_last_block_reply("esp8266", False, 0x20000, payload)
    out = run_case(Case(1, "esp8266", False, 0x20000, payload, f"drop_at={at + 4}&fault_dir=tx"))
    assert out.kind == "ok", out.detail
    assert any("writing the region again" in w for w in out.warnings)
    assert not any("first copy arrived" in w for w in out.warnings)


@pytest.mark.parametrize("at", [4000, 12_000, 20_000])
def test_a_packet_damaged_on_the_way_to_the_esp8266_rom_is_sent_again(at: int) -> None:
    """A lost byte makes the ROM answer "malformed message" (0x05) to a data block: that is a
    transmission fault, not an unsupported command."""
    out = run_case(Case(2, "esp8266", False, 0x30000, data(0x6000), f"drop_at={at}&fault_dir=rx"))
    assert out.kind == "ok", out.detail
    assert any("sending it again" in w for w in out.warnings)


@pytest.mark.parametrize("at", [14_000, 20_000, 30_000])
def test_esp8266_stub_reset_mid_write_erases_nothing_outside_the_region(at: int) -> None:
    """The chip resets into its ROM during a stub write (region not 64 KiB aligned): the retry
    notices the ROM, uploads the stub again and writes the region; no other sector is touched."""
    out = run_case(Case(3, "esp8266", True, 0x13000, data(0x8000), f"reset_at={at}"))
    assert out.kind == "ok", out.detail
    assert any("reset into its ROM" in w for w in out.warnings)


@pytest.mark.parametrize("chip", ["esp8266", "esp32"])
def test_a_rom_reply_after_a_reset_is_not_read_as_a_stub_error(chip: str) -> None:
    out = run_case(Case(4, chip, True, 0x40000, data(0x9000), "reset_at=16000"))
    assert out.kind == "ok", out.detail
    assert not any("unknown stub error" in w for w in out.warnings)


def test_a_lost_stub_greeting_does_not_make_the_host_speak_rom_to_the_stub() -> None:
    """Found by the campaign (seed 2044): the OHAI frame was lost, the host went on "with the ROM
    loader" although the stub answered, and sent it ROM-encoded writes (the ESP8266 ROM's reduced
    erase size is the stub's byte count): half the region stayed unwritten, reported as written."""
    out = run_case(Case(5, "esp8266", True, 0x52000, data(0x8000), "drop_at=337&fault_dir=tx"))
    assert out.kind == "ok", out.detail
    assert any("greeting was lost" in w for w in out.warnings)
