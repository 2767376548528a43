"""esptool.cfg keys that change how esptk talks to the port and the chip, each observed where a user
would notice it: reset_delay (control-line timing), serial_write_timeout (the pyserial port),
write_block_attempts (a damaged data block), open_port_attempts (a port that appears late)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..conftest import Result
from ..peer.conftest import Server, start_server

Cli = Callable[..., Result]


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Write esptool.cfg in a fresh working folder (and no config from the environment)."""
    monkeypatch.chdir(tmp_path)
    for var in ("ESPTK_CFGFILE", "ESPTOOL_CFGFILE"):
        monkeypatch.delenv(var, raising=False)
    return lambda text: (tmp_path / "esptool.cfg").write_text("[esptool]\n" + text + "\n")


def boot_pin_delay(calls: list[tuple[float, bool | None, bool | None]]) -> float:
    """Seconds from EN released (RTS off) with GPIO0 held low (DTR on) to GPIO0 released."""
    dtr = rts = False
    released: float | None = None
    for t, d, r in calls:
        if r is not None:
            if rts and not r and (d if d is not None else dtr):
                released = t
            rts = r
        if d is not None:
            if released is not None and dtr and not d:
                return t - released
            dtr = d
    raise AssertionError(f"no reset into the loader in {calls}")


def test_reset_delay_sets_the_wait_before_the_boot_pin_is_released(cli: Cli, cfg: Callable[[str], None],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from esptk_sim.transport import SimTransport

    calls: list[tuple[float, bool | None, bool | None]] = []
    real = SimTransport.set_lines

    def recording(self: SimTransport, dtr: bool | None = None, rts: bool | None = None) -> None:
        calls.append((time.monotonic(), dtr, rts))
        real(self, dtr, rts)

    monkeypatch.setattr(SimTransport, "set_lines", recording)
    port = f"sim://esp32?flash_file={tmp_path / 'flash.bin'}"
    cfg("")
    assert cli("--port", port, "read-mac").code == 0
    default = boot_pin_delay(calls)
    calls.clear()
    cfg("reset_delay = 0.4")
    r = cli("--port", port, "read-mac")
    assert r.code == 0 and "24:0a:c4:12:34:56" in r.out, r.err
    assert 0.4 <= boot_pin_delay(calls) < 0.4 + 0.25
    assert 0.05 <= default < 0.3
    assert "warning" not in r.err  # no "not used" warning


def test_serial_write_timeout_reaches_the_pyserial_port(cli: Cli, cfg: Callable[[str], None],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import serial

    opened: list[serial.SerialBase] = []
    real = serial.serial_for_url

    def keep(*args: object, **kwargs: object) -> serial.SerialBase:
        port = real(*args, **kwargs)
        opened.append(port)
        return port

    monkeypatch.setattr(serial, "serial_for_url", keep)
    for text, expected in (("", 10.0), ("serial_write_timeout = 2.5", 2.5)):
        cfg(text)
        r = cli("--port", "loop://", "--before", "no_reset", "--connect-attempts", "1", "read-mac")
        assert r.code == 1 and "Traceback" not in r.err  # nothing answers on loop://
        assert opened[-1].write_timeout == expected
        assert "warning" not in r.err


def _image(tmp_path: Path) -> Path:
    p = tmp_path / "d.bin"
    p.write_bytes(random.Random(1).randbytes(0x6000))
    return p


def test_write_block_attempts_is_how_often_a_damaged_block_is_sent(cli: Cli, cfg: Callable[[str], None],
                                                                   tmp_path: Path) -> None:
    """One byte of a FLASH_DATA block is lost on the way to the ESP8266 ROM, which refuses the block."""
    image = _image(tmp_path)
    flash = tmp_path / "flash.bin"
    port = f"sim://esp8266?drop_at=12000&fault_dir=rx&flash_file={flash}"
    cfg("")  # default: 3 tries
    r = cli("--no-stub", "--port", port, "write-flash", "0x30000", str(image))
    assert r.code == 0 and "sending it again" in r.err, r.err
    assert flash.read_bytes()[0x30000:0x36000] == image.read_bytes()
    flash.unlink()
    cfg("write_block_attempts = 1")
    r = cli("--no-stub", "--port", port, "write-flash", "0x30000", str(image))
    assert r.code == 1 and "sending it again" not in r.err and "Traceback" not in r.err
    assert "was refused once" in r.err and "write_block_attempts" in r.err
    cfg("write_block_attempts = 2")
    assert cli("--no-stub", "--port", port, "write-flash", "0x30000", str(image)).code == 0
    cfg("write_block_attempts = 0")
    r = cli("--no-stub", "--port", port, "write-flash", "0x30000", str(image))
    assert r.code == 2 and "write_block_attempts = 0 is less than 1" in r.err


@pytest.fixture
def pty_chip(tmp_path: Path) -> Iterator[Server]:
    server = start_server("esp32", "pty", tmp_path / "served.bin")
    yield server
    server.stop()


def test_open_port_attempts_waits_for_a_port_that_appears_late(cli: Cli, cfg: Callable[[str], None],
                                                               tmp_path: Path, pty_chip: Server) -> None:
    """The board's port appears 0.6 s after esptk starts (a board plugged in, a driver loading)."""
    late = tmp_path / "ttyLATE"
    cfg("")
    t0 = time.monotonic()
    r = cli("--port", str(late), "--chip", "esp32", "read-mac")
    assert r.code == 1 and "does not exist" in r.err and time.monotonic() - t0 < 0.5  # tried once
    cfg("open_port_attempts = 3")
    t0 = time.monotonic()
    r = cli("--port", str(late), "--chip", "esp32", "read-mac")
    took = time.monotonic() - t0
    assert r.code == 1 and "trying up to 3 times" in r.err and 0.2 <= took < 2, (took, r.err)  # 0.1 s apart
    cfg("open_port_attempts = 0")  # until it opens
    appear = threading.Timer(0.6, lambda: os.symlink(pty_chip.endpoint, late))
    appear.start()
    try:
        t0 = time.monotonic()
        r = cli("--port", str(late), "--chip", "esp32", "read-mac")
    finally:
        appear.cancel()
    assert r.code == 0 and "MAC: 24:0a:c4:12:34:56" in r.out, r.err
    assert "trying until it opens" in r.err and time.monotonic() - t0 >= 0.6
