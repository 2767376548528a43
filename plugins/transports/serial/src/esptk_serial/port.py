"""A transport over anything pyserial opens: device paths and its URL handlers."""

from __future__ import annotations

import errno
import os
import socket
import struct
import time
from typing import ClassVar

import serial

from esptk.errors import PortBusy, PortNotFound, TransportError
from esptk.protocol import timeouts
from esptk.transport import Capability, url_scheme

#: pyserial URL handlers whose links carry no modem control lines
NO_LINES = {"socket", "loop", "spy-socket"}
POLL = 0.05  #: seconds one port read waits; read() repeats it up to the caller's timeout


class SerialTransport:
    SCHEMES: ClassVar[tuple[str, ...]] = ("serial", "rfc2217", "socket", "loop", "spy", "hwgrep", "alt")

    def __init__(self, url: str, baud: int) -> None:
        self.url = url
        self._baud = baud
        self._port: serial.SerialBase | None = None
        scheme = url_scheme(url)
        caps = Capability.SET_BAUD
        if scheme not in NO_LINES:
            caps |= Capability.CONTROL_LINES
        if scheme == "serial" and os.name == "posix":
            caps |= Capability.ATOMIC_LINES
        self.capabilities = caps
        self._dtr = False
        self._rts = False

    @classmethod
    def from_url(cls, url: str, baud: int) -> SerialTransport:
        if url.startswith("serial://"):
            url = url[len("serial://"):]
        return cls(url, baud)

    def open(self) -> None:
        try:
            self._open()
        except TransportError as e:
            # some RFC 2217 servers (ser2net in front of a pty) never confirm SET_CONTROL; pyserial's
            # ign_set_control option stops waiting for that confirmation
            if url_scheme(self.url) != "rfc2217" or "option 'control'" not in str(e) or "ign_set_control" in self.url:
                raise
            self.url += ("&" if "?" in self.url else "?") + "ign_set_control"
            self._open()

    def _open(self) -> None:
        try:
            # pyserial's rfc2217 class refuses a write timeout (NotImplementedError)
            # the write timeout is esptk.protocol.timeouts.SERIAL_WRITE (esptool.cfg: serial_write_timeout)
            extra = {} if url_scheme(self.url) == "rfc2217" else {"write_timeout": timeouts.SERIAL_WRITE}
            port = serial.serial_for_url(self.url, do_not_open=True, baudrate=self._baud, timeout=POLL, **extra)
            if isinstance(port, serial.Serial) and os.name == "posix" and url_scheme(self.url) == "serial":
                port.exclusive = True
            port.open()
        except serial.SerialException as e:
            raise self._classify(e) from e
        except (ValueError, OSError) as e:
            raise TransportError(f"cannot open {self.url}: {e}",
                                 hint="check the port name or URL (e.g. socket://127.0.0.1:4000)") from e
        self._port = port
        if self.capabilities & Capability.CONTROL_LINES and url_scheme(self.url) == "serial":
            self._probe_lines(port)

    def _classify(self, e: serial.SerialException) -> TransportError:
        code = getattr(e, "errno", None)
        text = str(e)
        if code == errno.ENOENT or "No such file" in text or "could not open port" in text and "FileNotFound" in text:
            return PortNotFound(f"port {self.url} does not exist")
        if code in (errno.EBUSY, errno.EAGAIN) or "lock" in text.lower() or "busy" in text.lower():
            return PortBusy(f"port {self.url} is busy")
        if code == errno.EACCES or "Permission denied" in text:
            return TransportError(f"no permission to open {self.url}",
                                  hint="add yourself to the group owning the port (often 'dialout')")
        if "Connection refused" in text or code == errno.ECONNREFUSED:
            return PortNotFound(f"nothing listens at {self.url}", hint="start the server first (esptk sim serve?)")
        return TransportError(f"cannot open {self.url}: {text}")

    def _probe_lines(self, port: serial.SerialBase) -> None:
        """A pty or a bridge without modem lines cannot reset the chip: drop the capability."""
        if os.name != "posix":
            return
        import fcntl
        import termios

        try:
            fcntl.ioctl(port.fileno(), termios.TIOCMGET, struct.pack("I", 0))
        except OSError:
            self.capabilities &= ~(Capability.CONTROL_LINES | Capability.ATOMIC_LINES)

    @property
    def port(self) -> serial.SerialBase:
        if self._port is None:
            raise TransportError(f"{self.url} is not open")
        return self._port

    def close(self) -> None:
        port, self._port = self._port, None
        if port is None:
            return
        sock = getattr(port, "_socket", None) if url_scheme(self.url) == "socket" else None
        if sock is None or not port.is_open:
            port.close()
            return
        # pyserial's socket:// close sleeps 0.3 s after closing "in case of quick reconnects";
        # esptk closes the link when it is done with it, so it closes the socket itself
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        port._socket = None
        port.is_open = False

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, waiting at most ``timeout`` seconds for the first. The port's own
        timeout stays fixed (POLL): changing it reconfigures the port, and over RFC 2217 that is a
        round trip to the server on every read."""
        p = self.port
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while True:
                waiting = p.in_waiting
                if waiting:
                    return bytes(p.read(min(size, waiting)))
                first = p.read(1)
                if first:
                    more = p.in_waiting
                    if more and size > 1:
                        first += p.read(min(size - 1, more))
                    return bytes(first)
                if time.monotonic() >= deadline:
                    return b""
        except serial.SerialException as e:
            from esptk.errors import LinkLost

            raise LinkLost(f"{self.url}: {e}") from e

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except serial.SerialTimeoutException as e:
            raise TransportError(f"writing to {self.url} timed out", hint="is flow control blocking the port?") from e
        except serial.SerialException as e:
            from esptk.errors import LinkLost

            raise LinkLost(f"{self.url}: {e}") from e

    def flush_input(self) -> None:
        try:
            self.port.reset_input_buffer()
        except serial.SerialException:
            pass

    @property
    def baud(self) -> int:
        return self._baud

    def set_baud(self, baud: int) -> None:
        self._baud = baud
        if self._port is not None:
            self._port.baudrate = baud

    def set_lines(self, dtr: bool | None = None, rts: bool | None = None) -> None:
        p = self.port
        if dtr is not None and rts is not None and self.capabilities & Capability.ATOMIC_LINES:
            self._set_both(p, dtr, rts)
            return
        if rts is not None:
            p.rts = rts
            self._rts = rts
            p.dtr = self._dtr  # usbser.sys sends the RTS change only with a DTR write
        if dtr is not None:
            p.dtr = dtr
            self._dtr = dtr

    def _set_both(self, p: serial.SerialBase, dtr: bool, rts: bool) -> None:
        import fcntl
        import termios

        fd = p.fileno()
        status = struct.unpack("I", fcntl.ioctl(fd, termios.TIOCMGET, struct.pack("I", 0)))[0]
        status = (status | termios.TIOCM_DTR) if dtr else (status & ~termios.TIOCM_DTR)
        status = (status | termios.TIOCM_RTS) if rts else (status & ~termios.TIOCM_RTS)
        try:
            fcntl.ioctl(fd, termios.TIOCMSET, struct.pack("I", status))
        except OSError:  # a pty has no modem lines: fall back to the plain calls
            p.dtr, p.rts = dtr, rts
        self._dtr, self._rts = dtr, rts
