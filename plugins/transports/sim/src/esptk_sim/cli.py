"""``esptk sim serve``: the virtual chip for other programs (esptool, a second esptk) over TCP or a pty.

The first line on stdout is the endpoint (``socket://127.0.0.1:PORT`` or ``/dev/pts/N``); status
lines go to stderr. Ctrl-C or SIGTERM ends it cleanly (exit 0), saving the flash file.
"""

from __future__ import annotations

import ipaddress
import signal
import sys
import threading
from typing import Annotated, Any

import typer

from esptk.errors import UsageError

from .factory import make_chip, save_flash
from .server import bind_tcp, open_pty, serve_pty, serve_tcp


def _split_hostport(text: str, allow_remote: bool) -> tuple[str, int]:
    host, sep, port_s = text.rpartition(":")
    if not sep:
        host, port_s = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_s)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise UsageError(f"bad --tcp address {text!r}", hint="write HOST:PORT or PORT, e.g. 127.0.0.1:4000") from None
    if not allow_remote and host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise UsageError(f"refusing to listen on {host}: the virtual chip serves only this machine",
                             hint="use 127.0.0.1, or add --allow-remote if you really mean it")
    return host, port


def _status(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def serve(
    chip: Annotated[str, typer.Option("--chip", "-c", help="Chip to model, e.g. esp32.")],
    tcp: Annotated[str | None, typer.Option(help="Listen on HOST:PORT (port 0: any free port).")] = None,
    pty: Annotated[bool, typer.Option("--pty", help="Serve on a new pseudo-terminal.")] = False,
    mac: Annotated[str | None, typer.Option(help="MAC address, e.g. 24:0a:c4:12:34:56.")] = None,
    flash_size: Annotated[str | None, typer.Option(help="Flash size, e.g. 4MB.")] = None,
    flash_id: Annotated[str | None, typer.Option(help="JEDEC id, e.g. 0x1640ef (sets the size).")] = None,
    flash_file: Annotated[str | None, typer.Option(help="Keep the flash content in this file.")] = None,
    efuse_file: Annotated[str | None, typer.Option(
        help="Keep the eFuses in this file (espefuse --virt --path-efuse-file format).")] = None,
    timing: Annotated[bool, typer.Option(
        help="Model line rate and flash timing (= --option timing=all; timing=link or =flash: one half).")] = False,
    latency_ms: Annotated[float, typer.Option(help="Latency per transfer (USB bridge), ms.")] = 0.0,
    drop_rate: Annotated[float, typer.Option(help="Probability that a byte the chip sends is lost.")] = 0.0,
    corrupt_rate: Annotated[float, typer.Option(help="Probability that a sent byte gets a bit flipped.")] = 0.0,
    reset_at: Annotated[int | None, typer.Option(help="Reset the chip after it received this many bytes.")] = None,
    hang_at: Annotated[int | None, typer.Option(help="Stop answering after receiving this many bytes.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the fault model.")] = 0,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Further sim option NAME=VALUE (drop_rate, corrupt_at, reset_at, seed ...).")] = None,
    allow_remote: Annotated[bool, typer.Option(help="Allow --tcp on a non-loopback address.")] = False,
    reset_on_connect: Annotated[bool, typer.Option(
        help="Each new client finds a freshly reset chip; --no-reset-on-connect: the running chip.")] = True,
) -> None:
    """Run a virtual chip until interrupted; the first stdout line tells where it listens."""
    if bool(tcp) == pty:
        raise UsageError("give exactly one of --tcp HOST:PORT or --pty",
                         hint="e.g. esptk sim serve --chip esp32 --tcp 127.0.0.1:0")
    given: dict[str, str] = {}
    for item in option or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"bad --option {item!r}", hint="write NAME=VALUE, e.g. --option drop_rate=0.001")
        given[key.strip()] = value.strip()
    named = {"mac": mac, "flash_size": flash_size, "flash_id": flash_id, "flash_file": flash_file,
             "efuse_file": efuse_file}
    given.update({k: v for k, v in named.items() if v is not None})
    faults = {"drop_rate": drop_rate or None, "corrupt_rate": corrupt_rate or None, "reset_at": reset_at,
              "hang_at": hang_at, "seed": seed or None, "latency_ms": latency_ms or None,
              "timing": "1" if timing else None}
    given.update({k: str(v) for k, v in faults.items() if v is not None})
    vc = make_chip(chip, given)
    vc.on_log = lambda text: _status(f"chip: {text}")
    stop = threading.Event()

    def on_signal(_sig: int, _frame: Any) -> None:
        stop.set()

    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        if tcp:
            host, port = _split_hostport(tcp, allow_remote)
            sock = bind_tcp(host, port)
            bound = sock.getsockname()
            shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            print(f"socket://{shown}:{bound[1]}", flush=True)
            _status(f"virtual {vc.chip.name} listening; Ctrl-C stops")
            with sock:
                _run(lambda: serve_tcp(vc, sock, stop, lambda who: _status(f"client {who}"), reset_on_connect), stop)
        else:
            import os

            master, path = open_pty()
            print(path, flush=True)
            _status(f"virtual {vc.chip.name} on {path}; Ctrl-C stops")
            try:
                _run(lambda: serve_pty(vc, master, stop, reset_on_connect=reset_on_connect), stop)
            finally:
                os.close(master)
    finally:
        signal.signal(signal.SIGTERM, old)
        save_flash(vc)


def _run(loop: Any, stop: threading.Event) -> None:
    try:
        loop()
    except KeyboardInterrupt:
        stop.set()


def add_commands(app: typer.Typer) -> None:
    sim = typer.Typer(help="The virtual chip (a model of the ESP8266/ESP32 ROM loader).", no_args_is_help=True)
    sim.command("serve")(serve)
    app.add_typer(sim, name="sim")
