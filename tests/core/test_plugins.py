"""Plugin discovery, isolation and control; and the core hooks, each exercised for real."""

from __future__ import annotations

import json
import types
from pathlib import Path

import typer

from esptk import hookimpl
from esptk.plugins import Registry, make_plugin_manager
from esptk.reset import CLASSIC, ResetSequence
from esptk.transport import Capability

from ..conftest import run_esptk


def test_first_party_plugins_load_ok(registry: Registry) -> None:
    status = {r.name: (r.kind, r.status) for r in registry.records}
    assert status["esp8266"] == ("chip", "ok") and status["esp32"] == ("chip", "ok")
    assert status["serial"] == ("transport", "ok") and status["sim"] == ("transport", "ok")
    registry.pm.check_pending()


def test_hook_esptk_register_chips(registry: Registry) -> None:
    assert registry.chips["esp8266"].magic_values == (0xFFF0C101,)
    assert registry.chips["esp32"].magic_values == (0x00F01D83,)
    assert registry.chip("ESP-32").name == "esp32"  # case and separators do not matter


def test_hook_esptk_register_transports(registry: Registry) -> None:
    for url, scheme in (("/dev/ttyUSB0", "serial"), ("socket://localhost:4000", "socket"),
                        ("rfc2217://h:1", "rfc2217"), ("sim://esp32", "sim")):
        assert scheme in registry.transport_for(url).SCHEMES


def test_hook_esptk_known_chips(registry: Registry) -> None:
    assert registry.name_magic(0x00000009) == "ESP32-S3"
    assert registry.name_magic(0x12345678) is None


def test_hook_esptk_reset_sequences(registry: Registry) -> None:
    lines = Capability.CONTROL_LINES | Capability.SET_BAUD

    def seqs(mode: str, caps: Capability) -> list[ResetSequence]:
        out: list[ResetSequence] = []
        for r in registry.hook.esptk_reset_sequences(mode=mode, capabilities=caps, chip=None):
            out.extend(r)
        return out

    classic = seqs("default_reset", lines)
    assert classic[0] == CLASSIC and classic[1].steps[5] == ("W", 0.55)
    assert CLASSIC.steps == (("D", False), ("R", True), ("W", 0.1), ("D", True), ("R", False), ("W", 0.05),
                             ("D", False))
    tight = seqs("default_reset", lines | Capability.ATOMIC_LINES)
    assert tight[0].atomic and tight[0].steps[0] == ("U", (False, False))
    assert seqs("default_reset", Capability.SET_BAUD) == []  # a raw TCP link cannot reset
    assert [s.name for s in seqs("hard_reset", lines)] == ["hard-reset"]


def test_hook_esptk_reset_sequences_can_be_extended(registry: Registry) -> None:
    custom = ResetSequence.parse("custom", "D0|R1|W0.01|R0")
    mod = types.ModuleType("custom_reset")

    @hookimpl(tryfirst=True)
    def esptk_reset_sequences(mode: str):  # type: ignore[no-untyped-def]
        return [custom] if mode == "default_reset" else []

    mod.esptk_reset_sequences = esptk_reset_sequences  # type: ignore[attr-defined]
    reg = make_plugin_manager(extra=[mod])
    first = reg.hook.esptk_reset_sequences(mode="default_reset", capabilities=Capability.CONTROL_LINES, chip=None)
    assert [s for group in first for s in group][0] == custom


def test_hook_esptk_flash_protocol(registry: Registry) -> None:
    e8, e32 = registry.chips["esp8266"], registry.chips["esp32"]
    rom8 = registry.chip_hook(e8).esptk_flash_protocol(chip=e8, stub=False)
    assert (rom8.compression, rom8.md5, rom8.read, rom8.write_block_size) == (False, False, None, 0x400)
    # the ESP8266 ROM erase-size workaround, PROTOCOL.md 2.5 examples
    for (off, size), want in {(0, 0): 0, (0, 0x1000): 0x1000, (0, 0x2000): 0x1000, (0, 0x10000): 0x8000,
                              (0, 0x20000): 0x10000, (0x1000, 0x3000): 0x2000,
                              (0x10000, 0x40000): 0x30000}.items():
        assert rom8.erase_size(off, size) == want
    rom32 = registry.chip_hook(e32).esptk_flash_protocol(chip=e32, stub=False)
    assert (rom32.compression, rom32.md5, rom32.md5_hex, rom32.read, rom32.status_bytes) == (
        True, True, True, "slow", 4)
    assert rom32.defl_begin_size(1500) == 2048 and rom32.erase_size(0x1000, 1500) == 1500
    stub = registry.chip_hook(e32).esptk_flash_protocol(chip=e32, stub=True)
    assert (stub.write_block_size, stub.md5_hex, stub.read, stub.erase) == (0x4000, False, "stub", True)


def test_hook_esptk_add_commands() -> None:
    mod = types.ModuleType("extra_cmds")

    @hookimpl
    def esptk_add_commands(app: typer.Typer) -> None:
        @app.command("hello")
        def hello() -> None:
            pass

    mod.esptk_add_commands = esptk_add_commands  # type: ignore[attr-defined]
    reg = make_plugin_manager(extra=[mod])
    app = typer.Typer()
    reg.hook.esptk_add_commands(app=app)
    assert [c.name for c in app.registered_commands] == ["hello"]


def _fake_dist(root: Path, name: str, group: str, target: str, module: str | None = None) -> None:
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{target}\n")
    if module:
        pkg = root / target.split("=")[1].strip().split(".")[0]
        pkg.mkdir()
        (pkg / "__init__.py").write_text(module)


def _plugins(env: dict[str, str]) -> dict[str, dict[str, object]]:
    r = run_esptk("plugins", "--json", env=env)
    assert r.code == 0, r.err
    return {p["name"]: p for p in json.loads(r.out)["plugins"]}


def test_a_broken_plugin_is_reported_not_fatal(tmp_path: Path) -> None:
    _fake_dist(tmp_path, "esptk-broken", "esptk.chips", "broken = esptk_missing_module.hooks")
    _fake_dist(tmp_path, "esptk-typo", "esptk.chips", "typo = esptk_typo",
               module="from esptk import hookimpl\n\n@hookimpl\ndef esptk_register_chipz():\n    return []\n")
    _fake_dist(tmp_path, "esptk-raises", "esptk.transports", "raises = esptk_raises",
               module="from esptk import hookimpl\n\n@hookimpl\ndef esptk_register_transports():\n"
                      "    raise RuntimeError('no hardware driver')\n")
    got = _plugins({"PYTHONPATH": str(tmp_path)})
    assert got["broken"]["status"] == "error" and "ModuleNotFoundError" in str(got["broken"]["error"])
    assert got["typo"]["status"] == "error" and "esptk_register_chipz" in str(got["typo"]["error"])
    assert got["raises"]["status"] == "error" and "no hardware driver" in str(got["raises"]["error"])
    assert got["esp32"]["status"] == got["sim"]["status"] == "ok"


def test_allow_and_block_lists_from_the_environment() -> None:
    got = _plugins({"ESPTK_DISABLE_PLUGINS": "esp8266"})
    assert got["esp8266"]["status"] == "disabled" and got["esp32"]["status"] == "ok"
    got = _plugins({"ESPTK_PLUGINS": "esp32,sim"})
    assert {n for n, p in got.items() if p["status"] == "ok"} == {"esp32", "sim"}
    assert got["serial"]["status"] == "disabled"


def test_chip_bound_hooks_reach_only_the_owner_and_extensions() -> None:
    """A plugin that registers chip A is never asked about chip B; an extension is asked about both."""
    from esptk.chip import ChipSpec

    calls: list[tuple[str, str]] = []

    def chip_plugin(label: str) -> types.ModuleType:
        class Spec(ChipSpec):
            name = label
            description = label.upper()
            magic_values = (hash(label) & 0xFFFF,)

        mod = types.ModuleType(f"plugin_{label}")

        @hookimpl
        def esptk_register_chips() -> list[ChipSpec]:
            return [Spec()]

        @hookimpl
        def esptk_read_image(chip: ChipSpec, data: bytes) -> None:  # answers nothing, only records
            calls.append((label, chip.name))

        mod.esptk_register_chips = esptk_register_chips  # type: ignore[attr-defined]
        mod.esptk_read_image = esptk_read_image  # type: ignore[attr-defined]
        return mod

    ext = types.ModuleType("extension")

    @hookimpl
    def esptk_read_image(chip: ChipSpec, data: bytes) -> None:
        calls.append(("extension", chip.name))

    ext.esptk_read_image = esptk_read_image  # type: ignore[attr-defined]
    reg = make_plugin_manager(entrypoints=False, extra=[chip_plugin("chipa"), chip_plugin("chipb"), ext])
    for name in ("chipa", "chipb"):
        chip = reg.chip(name)
        reg.chip_hook(chip).esptk_read_image(chip=chip, data=b"")
    assert sorted(calls) == [("chipa", "chipa"), ("chipb", "chipb"), ("extension", "chipa"),
                             ("extension", "chipb")]
