"""Finding the board: list-ports, known bridges first, --port-filter, and trying ports without --port."""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from esptk import hookimpl
from esptk.ports import PortInfo, candidates, ordered

from ..conftest import Result

Cli = Callable[..., Result]

CP2102 = PortInfo("/dev/ttyUSB1", 0x10C4, 0xEA60, "0001", "Silicon Labs", "CP2102 USB to UART")
CH340 = PortInfo("/dev/ttyUSB0", 0x1A86, 0x7523, None, "QinHeng", "USB Serial")
JTAG = PortInfo("/dev/ttyACM0", 0x303A, 0x1001, "F4:12:FA:00:11:22", "Espressif", "USB JTAG/serial debug unit")
OTHER_USB = PortInfo("/dev/ttyACM1", 0x2341, 0x0043, "754393", "Arduino", "Uno")
BLUETOOTH = PortInfo("/dev/rfcomm0", description="Bluetooth serial")
MODEM = PortInfo("/dev/cu.Bluetooth-Incoming-Port", description="n/a")


def test_known_esp_bridges_come_first() -> None:
    got = ordered([OTHER_USB, BLUETOOTH, CH340, CP2102, JTAG])
    assert [p.device for p in got] == ["/dev/ttyACM0", "/dev/ttyUSB1", "/dev/ttyUSB0", "/dev/ttyACM1",
                                       "/dev/rfcomm0"]
    assert [p.bridge for p in got[:3]] == ["ESP USB-Serial/JTAG", "CP210x", "CH340"]


def test_bluetooth_and_modem_ports_are_not_tried_unless_filtered_for() -> None:
    assert BLUETOOTH not in candidates([BLUETOOTH, MODEM, CH340]) and MODEM not in candidates([MODEM, CH340])
    assert candidates([BLUETOOTH, CH340], ("name=rfcomm",)) == [BLUETOOTH]
    assert candidates([CP2102, CH340, JTAG], ("vid=0x1a86",)) == [CH340]
    assert candidates([CP2102, CH340, JTAG], ("serial=F4:12",)) == [JTAG]
    assert candidates([CP2102, CH340], ("vid=0x10c4", "pid=0xea61")) == []


def test_hook_esptk_list_ports() -> None:
    """A transport plugin lists its ports through the hook; `esptk list-ports` shows them all."""
    from esptk.plugins import make_plugin_manager

    mod = types.ModuleType("fakeports")

    @hookimpl
    def esptk_list_ports() -> list[PortInfo]:
        return [BLUETOOTH, CH340]

    mod.esptk_list_ports = esptk_list_ports  # type: ignore[attr-defined]
    reg = make_plugin_manager(extra=[mod])
    found = [p for ports in reg.hook.esptk_list_ports() for p in ports]
    assert BLUETOOTH in found and CH340 in found


def test_list_ports_json(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from esptk.cli import ports

    monkeypatch.setattr(ports, "all_ports", lambda: [BLUETOOTH, OTHER_USB, CP2102])
    r = cli("list-ports", "--json")
    assert r.code == 0, r.err
    got = json.loads(r.out)["ports"]
    assert [(p["device"], p["bridge"], p["vid"], p["candidate"]) for p in got] == [
        ("/dev/ttyUSB1", "CP210x", "0x10c4", True), ("/dev/ttyACM1", None, "0x2341", True),
        ("/dev/rfcomm0", None, None, False)]
    r = cli("--port-filter", "vid=0x10c4", "list-ports")
    assert r.code == 0 and r.out.split()[0] == "/dev/ttyUSB1" and len(r.out.splitlines()) == 1


def test_without_port_each_candidate_is_tried(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The first candidate has nothing behind it; the second is a virtual ESP32; Bluetooth is never opened."""
    from esptk.cli import ports

    dead = PortInfo("socket://127.0.0.1:1", 0x10C4, 0xEA60, description="CP2102 without a board")
    board = PortInfo(f"sim://esp32?flash_file={tmp_path / 'f.bin'}", 0x1A86, 0x7523, description="CH340")
    monkeypatch.setattr(ports, "all_ports", lambda: [BLUETOOTH, board, dead])
    r = cli("--connect-attempts", "1", "read-mac")
    assert r.code == 0, r.err
    assert "Trying socket://127.0.0.1:1 (CP210x)..." in r.err and "Trying sim://esp32" in r.err
    assert "rfcomm" not in r.err and r.out.strip() == "MAC: 24:0a:c4:12:34:56"
    r = cli("--port-filter", "vid=0x303a", "read-mac")
    assert r.code == 2 and "no serial port found matching --port-filter" in r.err
