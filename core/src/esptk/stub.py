"""Stub images: the RAM flasher a chip plugin ships as data and the host uploads."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import PluginError


@dataclass(frozen=True)
class StubImage:
    """A stub program: code and data blobs with their load addresses, and its entry point."""

    entry: int
    text_start: int
    text: bytes
    data_start: int
    data: bytes
    bss_start: int | None = None
    #: protocol version the stub speaks (so hosts can negotiate extensions)
    protocol_version: int = 1
    #: free-form build facts (toolchain versions, source hash)
    build: dict[str, Any] = field(default_factory=dict)
    #: a small loader to start first when the ROM cannot change its baud rate (see
    #: :func:`esptk.session.run_stub_via_loader`): it greets with ``S1HI`` and serves
    #: CHANGE_BAUDRATE and MEM_BEGIN/DATA/END in the ROM's format, so that this image goes up fast
    stage1: StubImage | None = None

    @classmethod
    def from_json(cls, raw: bytes | str) -> StubImage:
        try:
            d = json.loads(raw)
            return cls(
                entry=int(d["entry"]),
                text_start=int(d["text_start"]),
                text=base64.b64decode(d["text"]),
                data_start=int(d["data_start"]),
                data=base64.b64decode(d.get("data", "")),
                bss_start=d.get("bss_start"),
                protocol_version=int(d.get("protocol_version", 1)),
                build=dict(d.get("build", {})),
                stage1=cls.from_json(json.dumps(d["stage1"])) if d.get("stage1") else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise PluginError(f"stub image is malformed: {e}") from e

    def to_json(self) -> str:
        d: dict[str, Any] = {
            "entry": self.entry,
            "text_start": self.text_start,
            "text": base64.b64encode(self.text).decode(),
            "data_start": self.data_start,
            "data": base64.b64encode(self.data).decode(),
            "bss_start": self.bss_start,
            "protocol_version": self.protocol_version,
            "build": self.build,
        }
        if self.stage1 is not None:
            d["stage1"] = json.loads(self.stage1.to_json())
        return json.dumps(d, indent=1, sort_keys=True) + "\n"
