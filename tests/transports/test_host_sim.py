"""esptk's own host code against the virtual chip, through the CLI as a user runs it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from ..conftest import SHARED, run_esptk

CHIPS = ("esp8266", "esp32")
MAC = {"esp8266": "5c:cf:7f:01:02:03", "esp32": "24:0a:c4:12:34:56"}


def url(chip: str, **opts: str) -> str:
    q = "&".join(f"{k}={v}" for k, v in {"mac": MAC[chip], **opts}.items())
    return f"sim://{chip}?{q}"


def esptk_json(*args: str) -> dict[str, object]:
    r = run_esptk(*args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("chip", CHIPS)
def test_read_mac_reports_the_configured_mac(chip: str) -> None:
    r = run_esptk("--port", url(chip), "read-mac")
    assert r.code == 0, r.err
    assert r.out.strip() == f"MAC: {MAC[chip]}"
    assert "Chip is" in r.err and "Crystal is" in r.err  # the connect banner
    assert esptk_json("--port", url(chip), "read-mac")["mac"] == MAC[chip]


def test_chip_id_of_an_esp8266_comes_from_its_mac_words() -> None:
    got = esptk_json("--port", url("esp8266"), "chip-id")
    assert got["mac"] == MAC["esp8266"]
    assert got["chip_id"] & 0xFFFFFF == 0x010203  # type: ignore[operator]  # the MAC's last three bytes
    r = run_esptk("--port", url("esp32"), "chip-id")
    assert r.code == 0 and "has no chip id" in r.err and MAC["esp32"] in r.out


@pytest.mark.parametrize("chip", CHIPS)
def test_flash_id_and_size(chip: str) -> None:
    got = esptk_json("--port", url(chip, flash_id="0x1840ef"), "flash-id")
    assert got["manufacturer"] == 0xEF and got["size_name"] == "16MB"


@pytest.mark.parametrize("chip,addr", [("esp8266", 0x3FFE8000), ("esp32", 0x3FFB0000)])
def test_memory_read_write_dump(chip: str, addr: int, tmp_path: Path) -> None:
    assert esptk_json("--port", url(chip), "read-mem", "0x40001000")["value"] in (0xFFF0C101, 0x00F01D83)
    got = esptk_json("--port", url(chip), "write-mem", hex(addr), "0x12345678", "0x0000FFFF")
    assert got["read_back"] & 0xFFFF == 0x5678  # type: ignore[operator]
    out = tmp_path / "dump.bin"
    r = run_esptk("--port", url(chip), "dump-mem", "0x40001000", "16", str(out))
    assert r.code == 0, r.err
    assert out.read_bytes()[:4] in ((0xFFF0C101).to_bytes(4, "little"), (0x00F01D83).to_bytes(4, "little"))


@pytest.mark.parametrize("chip", CHIPS)
def test_address_where_nothing_answers_is_one_clear_error(chip: str) -> None:
    """Like silicon (PROTOCOL.md 14), the virtual chip takes an exception there and falls silent."""
    r = run_esptk("--port", url(chip), "read-mem", "0x10000000")
    assert r.code == 1 and "Traceback" not in r.err
    tail = r.err.strip().splitlines()[-2:]
    assert tail[0].startswith("error: no reply to READ_REG") and tail[1].startswith("hint:")


def test_chip_mismatch_is_refused() -> None:
    r = run_esptk("--chip", "esp8266", "--port", url("esp32"), "read-mac")
    assert r.code == 1 and "not an ESP8266" in r.err


# the ESP8266 ROM cannot read flash back: see test_esp8266_rom_write_is_unverified_and_says_so
@pytest.mark.parametrize("chip,stub", [("esp8266", True), ("esp32", True), ("esp32", False)],
                         ids=["esp8266-stub", "esp32-stub", "esp32-rom"])
def test_write_read_verify_round_trip(chip: str, stub: bool, tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    data = os.urandom(64 * 1024) + bytes(range(256)) * 1024  # 320 KiB: incompressible and compressible parts
    image = tmp_path / "image.bin"
    image.write_bytes(data)
    port = url(chip, flash_file=str(flash))
    common = ["--port", port] + ([] if stub else ["--no-stub"])
    r = run_esptk(*common, "write-flash", "0x20000", str(image), "--json")
    assert r.code == 0, r.err
    region = json.loads(r.out)["regions"][0]
    assert region["verified"] and region["md5"] == hashlib.md5(data).hexdigest()
    assert "Wrote" in r.err and "verified" in r.err
    assert flash.read_bytes()[0x20000 : 0x20000 + len(data)] == data  # the virtual chip's flash really holds it
    back = tmp_path / "back.bin"
    r = run_esptk(*common, "read-flash", "0x20000", str(len(data)), str(back))
    assert r.code == 0, r.err
    assert back.read_bytes() == data
    r = run_esptk(*common, "verify-flash", "0x20000", str(image))
    assert r.code == 0 and "OK" in r.out


def test_verify_flash_reports_differences(tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    image = tmp_path / "a.bin"
    image.write_bytes(b"\x11" * 8192)
    port = url("esp32", flash_file=str(flash))
    assert run_esptk("--port", port, "write-flash", "0x1000", str(image)).code == 0
    image.write_bytes(b"\x11" * 100 + b"\x22" + b"\x11" * 8091)
    r = run_esptk("--port", port, "verify-flash", "--diff", "0x1000", str(image))
    assert r.code == 1 and "DIFFERS" in r.out and "0x00001064" in r.out


def test_esp8266_rom_write_is_unverified_and_says_so(tmp_path: Path) -> None:
    image = tmp_path / "a.bin"
    image.write_bytes(b"\x5a" * 5000)
    r = run_esptk("--no-stub", "--port", url("esp8266"), "write-flash", "0x0", str(image))
    assert r.code == 0 and "NOT verified" in r.err and "All regions written and verified" not in r.err


@pytest.mark.parametrize("chip", CHIPS)
def test_erase_region_and_flash(chip: str, tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    image = tmp_path / "a.bin"
    image.write_bytes(b"\0" * 0x3000)
    port = url(chip, flash_file=str(flash))
    assert run_esptk("--port", port, "write-flash", "0x10000", str(image)).code == 0
    r = run_esptk("--port", port, "erase-region", "0x11000", "0x1000")
    assert r.code == 0, r.err
    content = flash.read_bytes()
    assert content[0x11000:0x12000] == b"\xff" * 0x1000
    assert content[0x10000:0x11000] == content[0x12000:0x13000] == b"\0" * 0x1000
    r = run_esptk("--port", port, "erase-region", "0x11001", "0x1000")
    assert r.code == 2 and "aligned" in r.err


def test_bad_input_for_write_flash(tmp_path: Path) -> None:
    small = tmp_path / "s.bin"
    small.write_bytes(b"x" * 10)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (4 * 1024 * 1024 + 1))
    port = url("esp32")
    cases = [
        (["0x1000", str(tmp_path / "missing.bin")], "does not exist"),
        (["0x1000", str(small), "0x1800", str(small)], "share flash sectors"),
        (["0x0", str(big)], "past the end"),
        (["0x3ff000", str(small) + "x"], "does not exist"),
    ]
    for args, message in cases:
        r = run_esptk("--port", port, "write-flash", *args)
        assert r.code == 2 and message in r.err, (args, r.err)
        assert "Traceback" not in r.err


def test_trace_shows_every_packet() -> None:
    r = run_esptk("--trace", "--port", url("esp32"), "read-mem", "0x40001000")
    assert r.code == 0
    assert "TRACE" in r.err and "Write 44 bytes" in r.err and "Read" in r.err


def test_load_ram_puts_segments_in_ram_and_jumps(tmp_path: Path) -> None:
    from esptk.cli.device import ram_segments
    from esptk.plugins import make_plugin_manager
    from esptk.session import connect, load_ram_segments

    code, data = tmp_path / "code.bin", tmp_path / "data.bin"
    code.write_bytes(bytes(range(256)) * 4)
    data.write_bytes(b"DATA" * 64)
    image = tmp_path / "ram.bin"
    r = run_esptk("--chip", "esp8266", "make-image", "-f", str(code), "-a", "0x40105000", "-f", str(data),
                  "-a", "0x3FFE9000", "-e", "0x40105004", str(image))
    assert r.code == 0, r.err
    r = run_esptk("--port", url("esp8266"), "load-ram", str(image))
    assert r.code == 0 and "running the program" in r.err, r.err
    reg = make_plugin_manager()
    s = connect(reg, port=url("esp8266"), use_stub=False)
    try:
        entry, segs = ram_segments(reg, s.chip, image.read_bytes(), "ram.bin")
        assert entry == 0x40105004 and [a for a, _ in segs] == [0x40105000, 0x3FFE9000]
        load_ram_segments(s, segs, 0)  # loaded, not started: the ROM still answers
        assert s.loader.read_reg(0x40105000) == int.from_bytes(bytes(range(4)), "little")
        assert s.loader.read_reg(0x3FFE9000 + 8) == int.from_bytes(b"DATA", "little")
        s.loader.mem_end(entry)  # a program, not a flasher stub: it runs and never greets
        assert not s.loader.wait_greeting(0.5)
        assert s.transport.chip.loader == "program"  # type: ignore[attr-defined]
    finally:
        s.transport.close()


def test_wrong_boot_mode_is_named() -> None:
    from esptk import reset
    from esptk.errors import SyncFailed
    from esptk.plugins import make_plugin_manager
    from esptk.session import connect, open_transport

    reg = make_plugin_manager()
    t = open_transport(reg, url("esp32"), 115200)
    reset.HARD_RESET.run(t.set_lines)  # EN pulsed with GPIO0 high: the chip boots its app
    with pytest.raises(SyncFailed, match=r"wrong boot mode \(0x"):
        connect(reg, transport=t, before="no_reset", connect_attempts=1)


def test_a_busy_port_is_named(tmp_path: Path) -> None:
    import serial

    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = serial.Serial(path, exclusive=True)
    try:
        r = run_esptk("--port", path, "read-mac")
        assert r.code == 1 and "busy" in r.err and "Traceback" not in r.err
        assert "hint:" in r.err
    finally:
        holder.close()
        os.close(master)
        os.close(slave)


def test_a_stub_that_does_not_greet_falls_back_to_the_rom() -> None:
    import types

    from esptk import hookimpl
    from esptk.plugins import make_plugin_manager
    from esptk.progress import RecordingProgress
    from esptk.session import connect
    from esptk.stub import StubImage

    reg0 = make_plugin_manager()
    real = reg0.chip_hook(reg0.chips["esp32"]).esptk_select_stub(chip=reg0.chips["esp32"], revision=None)
    mod = types.ModuleType("silent_stub")

    @hookimpl(tryfirst=True)
    def esptk_select_stub(chip):  # type: ignore[no-untyped-def]
        # loaded to RAM but never started (no entry): no greeting will come
        return StubImage(entry=0, text_start=real.text_start, text=real.text, data_start=real.data_start,
                         data=real.data)

    mod.esptk_select_stub = esptk_select_stub  # type: ignore[attr-defined]
    progress = RecordingProgress()
    s = connect(make_plugin_manager(extra=[mod]), port=url("esp32"), progress=progress)
    try:
        assert not s.stub and s.flash.status_bytes == 4
        assert any(kind == "warn" and "did not greet" in str(msg) for kind, msg in progress.events)
        assert s.loader.read_reg(0x40001000) == 0x00F01D83  # the ROM loader still answers
    finally:
        s.transport.close()


BOOTLOADER = SHARED / "conformance" / "public" / "inputs" / "esp32-bootloader.bin"


@pytest.mark.skipif(not BOOTLOADER.exists(), reason="../shared/conformance is not beside the repository")
def test_write_flash_patches_the_bootloader_header_and_its_digest(tmp_path: Path) -> None:
    from esptk.plugins import make_plugin_manager

    flash = tmp_path / "flash.bin"
    r = run_esptk("--port", url("esp32", flash_file=str(flash)), "write-flash", "--flash-mode", "dout",
                  "--flash-size", "detect", "--flash-freq", "80m", "0x1000", str(BOOTLOADER))
    assert r.code == 0, r.err
    original = BOOTLOADER.read_bytes()
    written = flash.read_bytes()[0x1000 : 0x1000 + len(original)]
    assert written[2] == 3 and written[3] == 0x2F  # dout; 4MB (detected) and 80m
    assert written[-32:] != original[-32:]  # the digest changed with the header
    reg = make_plugin_manager()
    info = reg.chip_hook(reg.chips["esp32"]).esptk_read_image(chip=reg.chips["esp32"], data=written)
    assert info.checksum_valid and info.digest_valid  # the appended SHA-256 was recomputed
    r = run_esptk("--port", url("esp32", flash_file=str(flash)), "verify-flash", "--flash-mode", "dout",
                  "--flash-size", "4MB", "--flash-freq", "80m", "0x1000", str(BOOTLOADER))
    assert r.code == 0 and "OK" in r.out


@pytest.mark.parametrize("args", [("version",), ("--port", "sim://esp32", "erase-region", "0x1000", "0x1000"),
                                  ("--port", "sim://esp32", "erase-flash"), ("--port", "sim://esp8266", "run")])
def test_every_command_speaks_json(args: tuple[str, ...]) -> None:
    r = run_esptk("--json", *args)
    assert r.code == 0, r.err
    assert json.loads(r.out)["schema"]["major"] == 1


def test_erase_all_clears_everything_else(tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"\0" * 4096)
    b.write_bytes(b"\x11" * 4096)
    port = url("esp32", flash_file=str(flash))
    assert run_esptk("--port", port, "write-flash", "0x200000", str(a)).code == 0
    r = run_esptk("--port", port, "write-flash", "--erase-all", "0x1000", str(b))
    assert r.code == 0, r.err
    content = flash.read_bytes()
    assert content[0x1000:0x2000] == b"\x11" * 4096
    assert content[0x200000:0x201000] == b"\xff" * 4096  # the earlier region is gone
