"""Serve a virtual chip to another process: over TCP (``socket://``) or a pseudo-terminal.

Neither link has modem lines: the chip sits in its ROM loader. Each new client (a TCP
connection, or a program opening the pty) finds a freshly reset chip; the flash keeps its content.
With ``reset_on_connect`` off, only the first client finds a reset chip: later ones find it running
whatever the previous client left (a stub, a program, an application).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import time
from collections.abc import Callable

from esptk.errors import UsageError

from .engine import VirtualChip

POLL = 0.1  #: seconds between checks of the stop flag


class Clock:
    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.t0


def _wait(vc: VirtualChip, clock: Clock) -> float:
    nxt = vc.next_output()
    if nxt is None:
        return POLL
    return min(POLL, max(0.0, nxt - clock()))


def bind_tcp(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise UsageError(f"TCP port {port} on {host} is already in use",
                             hint="pick another port, or 0 to let the system choose") from None
        raise UsageError(f"cannot listen on {host}:{port}: {e.strerror or e}",
                         hint="check the address (127.0.0.1:PORT)") from None
    sock.listen(1)
    return sock


def _connected(vc: VirtualChip, clock: Clock, reset: bool) -> None:
    """A new client: a freshly reset chip, or the running one (what it sent meanwhile is gone)."""
    if reset or vc.state == "off":
        vc.reset("poweron", download=True, at=clock(), quiet=True)
    else:
        vc.poll(clock())


def serve_tcp(vc: VirtualChip, sock: socket.socket, stop: threading.Event,
              on_client: Callable[[str], None] = lambda _: None, reset_on_connect: bool = True) -> None:
    """Serve clients one after another until ``stop`` is set."""
    clock = Clock()
    while not stop.is_set():
        ready, _, _ = select.select([sock], [], [], POLL)
        if not ready:
            continue
        conn, peer = sock.accept()
        on_client(f"{peer[0]}:{peer[1]}")
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            vc.host_follows_baud = True  # a TCP client's baud rate cannot be seen: it follows CHANGE_BAUDRATE
            if reset_on_connect or vc.state == "off":
                vc.set_host_baud(vc.options.baud)  # a fresh chip: the client starts at the initial rate
            _connected(vc, clock, reset_on_connect)
            _pump_socket(vc, conn, clock, stop)


def _pump_socket(vc: VirtualChip, conn: socket.socket, clock: Clock, stop: threading.Event) -> None:
    while not stop.is_set():
        out = vc.poll(clock())
        if out:
            try:
                conn.sendall(out)
            except OSError:
                return
        ready, _, _ = select.select([conn], [], [], _wait(vc, clock))
        if ready:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            vc.receive(data, clock())


def open_pty() -> tuple[int, str]:
    """A pty pair in raw mode: (master fd, slave path). The slave is closed until a client opens it."""
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    return master, path


def _pty_baud(master: int) -> int | None:
    import termios

    try:
        speed = termios.tcgetattr(master)[5]
    except termios.error:
        return None
    for name in dir(termios):
        if name.startswith("B") and name[1:].isdigit() and getattr(termios, name) == speed:
            return int(name[1:])
    return None


def serve_pty(vc: VirtualChip, master: int, stop: threading.Event,
              on_client: Callable[[str], None] = lambda _: None, reset_on_connect: bool = True) -> None:
    """Serve whoever opens the slave side; a new opener finds a freshly reset chip (or the running one)."""
    clock = Clock()
    poller = select.poll()
    poller.register(master, select.POLLIN)
    present = False
    while not stop.is_set():
        events = poller.poll(int(_wait(vc, clock) * 1000))
        hup = any(ev & select.POLLHUP for _, ev in events)
        if hup:
            present = False
            time.sleep(POLL / 2)  # nobody has the slave open
            continue
        if not present:
            present = True
            on_client("pty")
            _connected(vc, clock, reset_on_connect)
        baud = _pty_baud(master)
        if baud:
            vc.set_host_baud(baud)
        if any(ev & select.POLLIN for _, ev in events):
            try:
                data = os.read(master, 65536)
            except OSError:
                present = False
                continue
            vc.receive(data, clock())
        out = vc.poll(clock())
        try:
            while out:
                out = out[os.write(master, out):]
        except OSError:
            present = False
