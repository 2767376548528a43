"""Reading and writing user files: clear errors, and never a half-written output file."""

from __future__ import annotations

import os
import stat

from .errors import UsageError


def temp_file(folder: str, prefix: str = ".esptk-", suffix: str = "") -> tuple[int, str]:
    """A new file in ``folder`` that only this process has opened (mode 0600): ``(fd, path)``, as
    ``tempfile.mkstemp`` makes it, without importing tempfile (~5 ms of start-up)."""
    flags = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
             | getattr(os, "O_CLOEXEC", 0))
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {folder}")


def read_file(path: str, what: str = "file") -> bytes:
    try:
        return read_regular(path)
    except NotRegularFile:
        raise UsageError(f"{what} {path} is not a regular file", hint="name a file, not a FIFO or device") from None
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist", hint="check the file name") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path} is a directory", hint="name a file") from None
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror or e}") from None


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = temp_file(folder)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}", hint="check that the folder exists") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, output_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def output_mode(path: str) -> int:
    """The mode the new file gets: that of the file it replaces, else 0666 less the umask (as
    open() would give it; mkstemp's 0600 is only for the temporary name)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def parse_int(text: str, what: str = "number") -> int:
    try:
        value = int(text.strip().replace("_", ""), 0)
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a number", hint="use decimal or 0x-prefixed hex") from None
    if value < 0:
        raise UsageError(f"{what} {text!r} is negative", hint="numbers here start at 0")
    return value


class NotRegularFile(OSError):
    """A FIFO, device or socket: reading it could block forever or never end."""


def read_regular(path: str) -> bytes:
    """The bytes of the regular file ``path``; :class:`NotRegularFile` for anything else (opened
    without blocking, so a FIFO nobody writes to is refused instead of hanging)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", path)
        if not stat.S_ISREG(mode):
            raise NotRegularFile(0, "not a regular file", path)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        return f.read()
