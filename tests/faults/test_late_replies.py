"""A reply held back past its timeout must never be taken as the answer to a later command.

The fault model's ``delay_at`` holds back the chunk of chip output that contains that byte (and
everything after it) for longer than the host's 3 s command timeout. Whatever the delayed reply
was, the command must print exactly what it prints on a clean line (a warning about the recovery,
e.g. a lost stub greeting, may be added).
"""

from __future__ import annotations

import pytest

from ..conftest import run_esptk

MAC = {"esp8266": "5c:cf:7f:01:02:03", "esp32": "24:0a:c4:12:34:56"}
COMMANDS = ("read-mac", "chip-id", "flash-id")
#: offsets into what the chip sends: connect banner registers, then the command's own replies
OFFSETS = (300, 500, 700, 900)


def run(chip: str, command: str, faults: str = "") -> tuple[int, str, str]:
    url = f"sim://{chip}?mac={MAC[chip]}&flash_id=0x1840ef{faults}"
    r = run_esptk("--port", url, command, timeout=120)
    said = [line for line in r.err.splitlines() if not line.startswith(("Connecting", "warning:"))]
    return r.code, r.out, "\n".join(said)


@pytest.mark.parametrize("chip", sorted(MAC))
@pytest.mark.parametrize("command", COMMANDS)
def test_a_late_reply_changes_nothing(chip: str, command: str) -> None:
    clean = run(chip, command)
    assert clean[0] == 0, clean[2]
    for at in OFFSETS:
        got = run(chip, command, f"&delay_at={at}&delay_ms=3300")
        assert got == clean, f"delay_at={at}"
