"""Writing output files all-or-nothing: every file goes to a temporary name first."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..errors import UsageError
from ..fileio import output_mode, temp_file


def write_files(items: Sequence[tuple[str, bytes]]) -> None:
    """Write each ``(path, data)``; on any failure no new file is left behind."""
    temps: list[tuple[str, str]] = []
    try:
        for path, data in items:
            folder = os.path.dirname(os.path.abspath(path))
            fd, tmp = temp_file(folder, suffix=".tmp")
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, output_mode(path))
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as e:
        for tmp, _path in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise UsageError(f"cannot write {e.filename or 'output'}: {e.strerror or e}",
                         hint="check that the output folder exists and is writable") from None


def read_input(path: str) -> bytes:
    """Read an input file, turning OS errors into one-line usage errors."""
    from ..fileio import NotRegularFile, read_regular

    try:
        return read_regular(path)
    except NotRegularFile:
        raise UsageError(f"cannot read {path}: not a regular file", hint="name a file, not a FIFO or device") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}", hint="check the file name") from None
