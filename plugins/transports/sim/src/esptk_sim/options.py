"""Settings of a virtual chip, from a ``sim://CHIP?k=v&...`` query or ``esptk sim serve`` options."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from esptk.chip import parse_size
from esptk.errors import EsptkError, UsageError
from esptk.simchip import flash_size_from_id

from .faults import FaultOptions
from .timing import Timing, parse_mode

DEFAULT_FLASH_ID = 0x1640EF  # Winbond W25Q32, 4 MiB
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")

KNOWN = (
    "mac", "flash_id", "flash_size", "flash_file", "baud", "timing", "latency_ms", "inflate_rate",
    "drop_rate", "corrupt_rate", "delay_rate", "delay_ms", "drop_at", "corrupt_at", "delay_at", "reset_at", "hang_at",
    "fault_dir", "seed", "efuse_file", "stub_protocol", "stub_in_flight", "stuck_bits",
)


@dataclass(frozen=True)
class SimOptions:
    chip: str
    mac: str | None = None  #: "aa:bb:cc:dd:ee:ff", None: the chip plugin's default
    flash_id: int = DEFAULT_FLASH_ID
    flash_size: int = 4 * 1024 * 1024
    flash_file: str | None = None
    baud: int = 115200  #: the host's initial baud rate
    timing: Timing = field(default_factory=Timing)
    #: model our stub as speaking this protocol version (None: the version of the uploaded stub image)
    stub_protocol: int | None = None
    #: data blocks a protocol-2 stub model lets the host keep in flight (None: as our stub advertises)
    stub_in_flight: int | None = None
    faults: FaultOptions = field(default_factory=FaultOptions)
    #: worn flash cells: flash addresses whose bit 0 stays 1 when programmed (a failing part)
    stuck_bits: tuple[int, ...] = ()
    raw: dict[str, str] = field(default_factory=dict)  #: the settings as given (for the chip plugin)


def parse_mac(text: str) -> str:
    t = text.strip()
    if not _MAC.match(t):
        raise UsageError(f"bad MAC address {text!r}", hint="write six hex bytes, e.g. 24:0a:c4:12:34:56")
    return t.replace("-", ":").lower()


def _int(name: str, text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise UsageError(f"sim option {name}={text!r} is not a number", hint="use decimal or 0x hex") from None


def _float(name: str, text: str, low: float = 0.0, high: float | None = None) -> float:
    try:
        v = float(text)
    except ValueError:
        raise UsageError(f"sim option {name}={text!r} is not a number") from None
    if v < low or (high is not None and v > high):
        raise UsageError(f"sim option {name}={text!r} is out of range",
                         hint=f"use a value from {low} to {high}" if high is not None else f"use at least {low}")
    return v


def _bool(name: str, text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "on", "yes", "true", ""):
        return True
    if t in ("0", "off", "no", "false"):
        return False
    raise UsageError(f"sim option {name}={text!r} is not on/off")


def parse_options(chip: str, given: dict[str, str]) -> SimOptions:
    """Validate the generic settings; chip-specific ones stay in ``raw`` for the chip plugin."""
    unknown = sorted(set(given) - set(KNOWN))
    if unknown:
        raise UsageError(f"unknown sim option {unknown[0]!r}", hint="known options: " + ", ".join(KNOWN))
    g = given
    mac = parse_mac(g["mac"]) if g.get("mac") else None
    flash_id = _int("flash_id", g["flash_id"]) if g.get("flash_id") else None
    if flash_id is not None and not 0 < flash_id <= 0xFFFFFF:
        raise UsageError(f"flash id {g['flash_id']!r} is not a 24-bit JEDEC id", hint="e.g. 0x1640ef (4 MB)")
    if g.get("flash_size"):
        try:
            size = parse_size(g["flash_size"])
        except EsptkError as e:
            raise UsageError(f"bad flash size {g['flash_size']!r}", hint="e.g. 4MB, 16MB, 512KB") from e
        if size < 0x10000 or size & (size - 1):
            raise UsageError(f"bad flash size {g['flash_size']!r}", hint="a power of two from 64KB up, e.g. 4MB")
        if flash_id is None:
            flash_id = 0x40EF | ((size.bit_length() - 1) << 16)  # Winbond-style id with that capacity
    else:
        size_from_id = flash_size_from_id(flash_id) if flash_id is not None else None
        if flash_id is not None and size_from_id is None:
            raise UsageError(f"flash id 0x{flash_id:06x} has an unknown capacity byte",
                             hint="give --flash-size (flash_size=) as well")
        size = size_from_id or 4 * 1024 * 1024
    mode = parse_mode(g.get("timing", "off"))
    if mode is None:
        raise UsageError(f"sim option timing={g['timing']!r} is not a timing mode",
                         hint="use off, link (line rate and latency), flash (chip work) or all (=1)")
    timing = Timing(
        link=mode[0], flash=mode[1],
        latency=_float("latency_ms", g.get("latency_ms", "0"), 0, 1000) / 1000,
        inflate_rate=_float("inflate_rate", g["inflate_rate"], 1) if g.get("inflate_rate") else None,
    )
    stub_protocol = _int("stub_protocol", g["stub_protocol"]) if g.get("stub_protocol") else None
    if stub_protocol not in (None, 1, 2):
        raise UsageError(f"sim option stub_protocol={g['stub_protocol']!r} is not 1 or 2",
                         hint="1: our stub replies after the work; 2: it streams (contract A)")
    faults = FaultOptions(
        drop_rate=_float("drop_rate", g.get("drop_rate", "0"), 0, 1),
        corrupt_rate=_float("corrupt_rate", g.get("corrupt_rate", "0"), 0, 1),
        delay_rate=_float("delay_rate", g.get("delay_rate", "0"), 0, 1),
        delay=_float("delay_ms", g.get("delay_ms", "0"), 0, 60000) / 1000,
        drop_at=_int("drop_at", g["drop_at"]) if "drop_at" in g else None,
        corrupt_at=_int("corrupt_at", g["corrupt_at"]) if "corrupt_at" in g else None,
        delay_at=_int("delay_at", g["delay_at"]) if "delay_at" in g else None,
        reset_at=_int("reset_at", g["reset_at"]) if "reset_at" in g else None,
        hang_at=_int("hang_at", g["hang_at"]) if "hang_at" in g else None,
        direction=g.get("fault_dir", "tx"),
        seed=_int("seed", g.get("seed", "0")),
    )
    if faults.direction not in ("tx", "rx", "both"):
        raise UsageError(f"fault_dir={faults.direction!r} is not tx, rx or both")
    baud = _int("baud", g.get("baud", "115200"))
    if not 300 <= baud <= 8_000_000:
        raise UsageError(f"baud {baud} is out of range", hint="use 300 to 8000000")
    return SimOptions(chip=chip, mac=mac, flash_id=flash_id or 0x1640EF, flash_size=size,
                      flash_file=g.get("flash_file") or None, baud=baud, timing=timing, faults=faults,
                      stub_protocol=stub_protocol,
                      stuck_bits=tuple(_int("stuck_bits", a) for a in g.get("stuck_bits", "").split(",") if a.strip()),
                      stub_in_flight=_int("stub_in_flight", g["stub_in_flight"]) if g.get("stub_in_flight") else None,
                      raw=dict(given))


def parse_url(url: str) -> tuple[str, dict[str, str]]:
    """``sim://esp32?mac=...&flash_size=4MB`` → ("esp32", {"mac": ..., "flash_size": "4MB"})."""
    parts = urlsplit(url)
    if parts.scheme != "sim" or not (parts.netloc or parts.path.strip("/")):
        raise UsageError(f"bad sim URL {url!r}", hint="write sim://CHIP[?option=value&...], e.g. sim://esp32")
    chip = (parts.netloc or parts.path.strip("/")).lower()
    return chip, dict(parse_qsl(parts.query, keep_blank_values=True))
