"""Serial ports a board may sit on: what transport plugins list, ordered as a person would try them.

Known ESP bridges come first (ESP USB-Serial/JTAG, CP210x, CH340/CH9102, FTDI); ports that look
like Bluetooth links or modems are never tried unless asked for by name (``--port``) or filter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: (vid, pid or None for any) -> bridge name; order = preference
BRIDGES: tuple[tuple[int, int | None, str], ...] = (
    (0x303A, 0x1001, "ESP USB-Serial/JTAG"),
    (0x10C4, 0xEA60, "CP210x"), (0x10C4, 0xEA70, "CP210x"), (0x10C4, 0xEA71, "CP210x"),
    (0x1A86, 0x55D4, "CH9102"), (0x1A86, 0x55D3, "CH343"), (0x1A86, 0x7523, "CH340"),
    (0x0403, None, "FTDI"),
)
UNSAFE_WORDS = ("bluetooth", "rfcomm", "modem", "wlan", "debug-console", "-bt", "incoming-port")


@dataclass(frozen=True)
class PortInfo:
    device: str
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    manufacturer: str | None = None
    description: str | None = None

    @property
    def bridge(self) -> str | None:
        for vid, pid, name in BRIDGES:
            if self.vid == vid and (pid is None or self.pid == pid):
                return name
        return None

    @property
    def looks_unsafe(self) -> bool:
        """A Bluetooth link or a modem: probing it may pair, dial or hang."""
        text = f"{self.device} {self.description or ''} {self.manufacturer or ''}".lower()
        return self.vid is None and any(w in text for w in UNSAFE_WORDS)

    def matches(self, filters: tuple[str, ...]) -> bool:
        """``vid=0x..``, ``pid=0x..``, ``name=`` (part of the device name), ``serial=`` (part of the number)."""
        for item in filters:
            key, _, value = item.partition("=")
            if key == "vid" and self.vid != int(value, 16):
                return False
            if key == "pid" and self.pid != int(value, 16):
                return False
            if key == "name" and value not in self.device:
                return False
            if key == "serial" and value not in (self.serial_number or ""):
                return False
        return True

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "bridge": self.bridge, "vid": _hex(self.vid), "pid": _hex(self.pid)}


def _hex(v: int | None) -> str | None:
    return None if v is None else f"0x{v:04x}"


def rank(port: PortInfo) -> tuple[int, str]:
    order = next((i for i, (v, p, _n) in enumerate(BRIDGES) if port.vid == v and (p is None or port.pid == p)),
                 len(BRIDGES) + (1 if port.vid is None else 0))
    return order, port.device


def ordered(ports: list[PortInfo]) -> list[PortInfo]:
    """Known ESP bridges first (in BRIDGES order), then other USB ports, then the rest."""
    return sorted(ports, key=rank)


def candidates(ports: list[PortInfo], filters: tuple[str, ...] = ()) -> list[PortInfo]:
    """The ports to try without --port: filtered, ordered, never Bluetooth or modem ports
    unless a filter names them."""
    chosen = [p for p in ports if p.matches(filters)]
    if not filters:
        chosen = [p for p in chosen if not p.looks_unsafe]
    return ordered(chosen)
