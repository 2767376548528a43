"""The chip plugins hand out the committed stub blobs through esptk_select_stub."""

from __future__ import annotations

from esptk.plugins import make_plugin_manager
from esptk.stub import StubImage

NEEDS_TOOLS = False  # reads committed JSON only


def test_hook_esptk_select_stub() -> None:
    reg = make_plugin_manager()
    chips = {name: reg.chip(name) for name in ("esp8266", "esp32")}
    images = {n: reg.chip_hook(c).esptk_select_stub(chip=c, revision=None) for n, c in chips.items()}
    assert all(isinstance(i, StubImage) for i in images.values())
    assert images["esp8266"].text_start == 0x40104800
    assert images["esp32"].text_start == 0x40080000
    assert images["esp8266"].text != images["esp32"].text
    assert all(i.protocol_version == 2 and i.build["source_sha256"] for i in images.values())
    # the ESP8266 ROM cannot change its baud rate: its stub comes with a stage-1 loader that can
    s1 = images["esp8266"].stage1
    assert s1 is not None and s1.text and s1.text_start == 0x4010E000
    assert images["esp32"].stage1 is None

