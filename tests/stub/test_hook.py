"""The chip plugins hand out the committed stub blobs through esptk_select_stub."""

from __future__ import annotations

from esptk.plugins import make_plugin_manager
from esptk.stub import StubImage

NEEDS_TOOLS = False  # reads committed JSON only


def test_hook_esptk_select_stub() -> None:
    reg = make_plugin_manager()
    images = {name: reg.hook.esptk_select_stub(chip=reg.chip(name), revision=None) for name in ("esp8266", "esp32")}
    assert all(isinstance(i, StubImage) for i in images.values())
    assert images["esp8266"].text_start == 0x40104800
    assert images["esp32"].text_start == 0x40080000
    assert images["esp8266"].text != images["esp32"].text
    assert all(i.protocol_version == 2 and i.build["source_sha256"] for i in images.values())


def test_each_plugin_declines_the_other_chip() -> None:
    from esptk_esp32 import hooks as esp32
    from esptk_esp8266 import hooks as esp8266

    assert esp8266.esptk_select_stub(chip=esp32.CHIP, revision=None) is None
    assert esp32.esptk_select_stub(chip=esp8266.CHIP, revision=1) is None
    assert esp32.esptk_select_stub(chip=esp32.CHIP, revision=3) is not None
