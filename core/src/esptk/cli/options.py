"""Global options esptool users type: ``--port-filter`` and ``--override-vddsdio`` (checked here)."""

from __future__ import annotations

from ..errors import UsageError

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
