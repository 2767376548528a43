#!/usr/bin/env python3
"""An independent link clock: a TCP proxy that passes bytes as a serial line of a given baud would.

    python bench/linkclock.py --upstream 127.0.0.1:PORT [--listen 127.0.0.1:0] [--baud 115200] [--latency-ms 1]

The first stdout line is the URL to give the client (``socket://127.0.0.1:PORT``). Each client
connection opens its own upstream connection and starts at ``--baud``.

What it measures: each direction is one serial line clocking ``baud / 10`` bytes per second (8N1:
start bit, 8 data bits, stop bit, no gap between bytes), and every chunk reaches the other side a
fixed ``latency`` after its last byte was clocked (what a USB-serial bridge adds by buffering and
polling). Chunks are cut at 1 ms of line time, so a long write streams instead of arriving at once.
The baud rate follows the protocol: when the client sends a CHANGE_BAUDRATE request (SLIP frame,
opcode 0x0F), both directions switch to its first word once the chip's reply to it has passed the
line, as host and chip do. What it does not model: USB packet sizes and bridge FIFO limits, flow
control, a chip UART FIFO overflowing, the ESP32 ROM's clock drift (the requested rate is taken as
the rate the line runs at).

Put it in front of ``esptk sim serve --tcp ... --option timing=flash`` (the virtual chip then models
erase/program/inflate time only, and this proxy the line), so that esptk and esptool are clocked by
the same code that neither of them nor the virtual chip controls.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import threading
import time
from collections import deque

SLICE = 0.001  #: seconds of line time per forwarded chunk
CHANGE_BAUDRATE = 0x0F


class Frames:
    """Minimal SLIP splitter (0xC0 delimits, 0xDB escapes): the first bytes of each frame, which is
    all the watching needs (opcode and first word)."""

    HEAD = 16

    def __init__(self) -> None:
        self.head = b""  #: the first bytes of the frame being received

    def feed(self, data: bytes) -> list[bytes]:
        parts = data.split(b"\xc0")
        parts[0] = self.head + parts[0]
        self.head = parts.pop()[: self.HEAD * 2]
        return [p[: self.HEAD * 2].replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb") for p in parts if p]


class Line:
    """One direction: schedules chunks at the line rate, delivers them after the latency."""

    def __init__(self, link: Link, dst: socket.socket) -> None:
        self.link = link
        self.dst = dst
        self.free = 0.0  #: the line is busy clocking earlier bytes until then
        self.queue: deque[tuple[float, bytes]] = deque()
        self.cv = threading.Condition()
        self.closed = False

    def put(self, data: bytes, now: float) -> None:
        with self.cv:
            start = max(now, self.free)
            step = max(1, int(self.link.baud / 10 * SLICE))
            for i in range(0, len(data), step):
                piece = data[i : i + step]
                start += len(piece) * 10 / self.link.baud
                self.queue.append((start + self.link.latency, piece))
            self.free = start
            self.cv.notify()

    def close(self) -> None:
        with self.cv:
            self.closed = True
            self.cv.notify()

    def run(self) -> None:
        while True:
            with self.cv:
                while not self.queue and not self.closed:
                    self.cv.wait()
                if not self.queue:
                    break
                when, piece = self.queue[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self.cv.wait(wait)
                    continue
                self.queue.popleft()
            try:
                self.dst.sendall(piece)
            except OSError:
                break
        try:
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Link:
    def __init__(self, client: socket.socket, chip: socket.socket, baud: int, latency: float) -> None:
        self.baud = baud
        self.latency = latency
        self.pending_baud: int | None = None
        self.to_chip = Line(self, chip)
        self.to_host = Line(self, client)
        self.client, self.chip = client, chip

    def watch_host(self, frames: list[bytes]) -> None:
        for f in frames:
            if len(f) >= 12 and f[0] == 0 and f[1] == CHANGE_BAUDRATE:
                self.pending_baud = struct.unpack_from("<I", f, 8)[0]

    def watch_chip(self, frames: list[bytes]) -> None:
        for f in frames:
            if len(f) >= 8 and f[0] == 1 and f[1] == CHANGE_BAUDRATE and self.pending_baud:
                with self.to_host.cv, self.to_chip.cv:
                    self.baud, self.pending_baud = self.pending_baud, None

    def pump(self, src: socket.socket, line: Line, watch: object) -> None:
        frames = Frames()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                line.close()
                return
            now = time.monotonic()
            line.put(data, now)
            watch(frames.feed(data))  # type: ignore[operator]

    def serve(self) -> None:
        threads = [threading.Thread(target=self.to_chip.run, daemon=True),
                   threading.Thread(target=self.to_host.run, daemon=True),
                   threading.Thread(target=self.pump, args=(self.chip, self.to_host, self.watch_chip), daemon=True)]
        for t in threads:
            t.start()
        self.pump(self.client, self.to_chip, self.watch_host)
        for t in threads:
            t.join(timeout=5)
        for s in (self.client, self.chip):
            s.close()


def split(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the virtual chip (esptk sim serve --tcp)")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--baud", type=int, default=115200, help="line rate at the start of each connection")
    ap.add_argument("--latency-ms", type=float, default=1.0)
    args = ap.parse_args()
    server = socket.create_server(split(args.listen))
    host, port = server.getsockname()[:2]
    print(f"socket://{host}:{port}", flush=True)
    while True:
        client, _ = server.accept()
        chip = socket.create_connection(split(args.upstream))
        for s in (client, chip):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = Link(client, chip, args.baud, args.latency_ms / 1000)
        threading.Thread(target=link.serve, daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
