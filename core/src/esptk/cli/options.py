"""Global options esptool users type: ``--port-filter`` and ``--override-vddsdio`` (checked here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..session import Session

FILTER_KEYS = ("vid", "pid", "name", "serial")
VDDSDIO = ("1.8V", "1.9V", "OFF")


def parse_port_filter(values: list[str]) -> tuple[str, ...]:
    """``vid=0x10c4`` ``pid=…`` ``name=…`` ``serial=…`` (repeated, or joined by commas) -> normalised items."""
    out: list[str] = []
    for value in values:
        for item in filter(None, (p.strip() for p in value.split(","))):
            key, sep, val = item.partition("=")
            key = key.strip().lower()
            if not sep or key not in FILTER_KEYS or not val:
                raise UsageError(f"--port-filter '{item}' is not KEY=VALUE",
                                 hint="keys: vid, pid, name, serial (e.g. --port-filter vid=0x10c4,pid=0xea60)")
            if key in ("vid", "pid"):
                try:
                    num = int(val, 16)
                except ValueError:
                    raise UsageError(f"--port-filter {key}={val} is not a hex number", hint="e.g. vid=0x303a") from None
                val = f"0x{num:04x}"
            out.append(f"{key}={val}")
    return tuple(out)


def check_vddsdio(value: str | None) -> str | None:
    if value is None:
        return None
    for v in VDDSDIO:
        if value.strip().upper() == v.upper():
            return v
    raise UsageError(f"--override-vddsdio '{value}' is not one of {', '.join(VDDSDIO)}", hint="e.g. 1.9V")


def override_vddsdio(s: Session, value: str) -> None:
    """Force the flash voltage regulator (ESP32's VDD_SDIO) as esptool's ``--override-vddsdio`` does."""
    from . import console

    spec = s.chip.vddsdio_override
    if spec is None:
        raise UsageError(f"--override-vddsdio is not supported on {s.chip.description}",
                         hint="only chips with a VDD_SDIO regulator (ESP32) have it")
    reg, words = spec
    s.loader.write_reg(reg, words[value])
    console.info(f"VDDSDIO regulator set to {value}.")
