"""The esptk_sim_chip hook: each chip plugin models its own chip, and only its own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from esptk.chip import ChipSpec
from esptk.protocol import op
from esptk.simchip import SimChip


class OtherChip(ChipSpec):
    name = "other"
    description = "Other"
    magic_values = (1,)


def test_hook_esptk_sim_chip(registry: Any) -> None:
    def hook(chip: ChipSpec, options: dict[str, str]) -> Any:
        return registry.chip_hook(chip).esptk_sim_chip(chip=chip, options=options)

    models = {name: hook(chip=registry.chip(name), options={}) for name in ("esp8266", "esp32")}
    assert all(isinstance(m, SimChip) for m in models.values())
    assert models["esp8266"].rom_status_bytes == 2 and models["esp32"].rom_status_bytes == 4
    assert op.FLASH_DEFL_BEGIN not in models["esp8266"].rom_commands
    assert op.FLASH_DEFL_BEGIN in models["esp32"].rom_commands
    assert models["esp32"].rom_needs_attach and not models["esp8266"].rom_needs_attach
    assert models["esp8266"].registers[0x40001000] == 0xFFF0C101
    assert models["esp32"].registers[0x40001000] == 0x00F01D83
    assert hook(chip=OtherChip(), options={}) is None
    mac = hook(chip=registry.chip("esp32"), options={"mac": "02:00:00:00:00:09"})
    assert mac.registers[0x3FF5A004] == 0x00000009 and mac.registers[0x3FF5A008] & 0xFFFF == 0x0200


def test_the_engine_never_names_a_chip() -> None:
    """Chip facts reach the engine only through SimChip: no chip names, no chip-plugin imports."""
    import esptk_sim

    folder = Path(esptk_sim.__file__).parent
    for name in ("engine", "rom", "stub", "memory", "writes", "nor", "uart", "faults", "server", "transport"):
        text = (folder / f"{name}.py").read_text()
        code = "\n".join(line.split("#")[0] for line in text.splitlines() if not line.lstrip().startswith('"""'))
        assert not re.search(r"esp32|esp8266|esptk_esp", code, re.I), f"{name}.py names a chip"
