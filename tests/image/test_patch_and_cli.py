"""Header patching, image round trips through the chip plugins, and CLI behaviour on bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from esptk.cli import main
from esptk.errors import UsageError
from esptk.image.elf import ElfFile
from esptk.image.model import ImageSettings, Segment
from esptk.image.patch import patch_flash_params
from esptk.plugins import make_plugin_manager

pytest.importorskip("esptk_esp32")
pytest.importorskip("esptk_esp8266")

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "public" / "inputs"


@pytest.fixture(scope="module")
def reg():  # type: ignore[no-untyped-def]
    return make_plugin_manager()


def _build(reg, chip_name: str, segs: list[Segment], **settings):  # type: ignore[no-untyped-def]
    chip = reg.chip(chip_name)
    elf = ElfFile.from_segments(segs, entry=0x40080004, name="t")
    return chip, reg.chip_hook(chip).esptk_build_image(chip=chip, elf=elf, settings=ImageSettings(**settings))


def test_esp32_image_round_trip(reg) -> None:  # type: ignore[no-untyped-def]
    segs = [Segment(0x3FFB0000, bytes(range(64))), Segment(0x400D0020, b"\x11" * 0x100),
            Segment(0x40080000, b"\x22" * 0x40)]
    chip, files = _build(reg, "esp32", segs, flash_mode="dio", flash_size="4MB", flash_freq="80m")
    data = files[0].data
    assert len(data) % 16 == 0 and data[2] == 2 and data[3] == 0x2F
    info = reg.chip_hook(chip).esptk_read_image(chip=chip, data=data)
    assert info.checksum_valid and info.digest_valid
    flash = [s for s in info.segments if s.addr == 0x400D0020][0]
    assert (flash.file_offset + 8) % 0x10000 == 0x20  # data sits at its MMU page offset
    assert info.extended["chip_id"] == 0 and info.extended["max_rev_full"] == 0xFFFF


def test_esp32_patch_recomputes_digest_and_keeps_the_tail(reg) -> None:  # type: ignore[no-untyped-def]
    chip, files = _build(reg, "esp32", [Segment(0x3FFB0000, b"\x55" * 32)])
    image = files[0].data
    tail = b"TAIL" * 4
    patched, warnings = patch_flash_params(reg, chip, image + tail, 0x1000, "dout", "26m", "16MB")
    assert not warnings
    assert patched[2] == 3 and patched[3] == 0x41
    info = reg.chip_hook(chip).esptk_read_image(chip=chip, data=patched)
    assert info.digest_valid and info.checksum_valid
    assert patched[info.data_length:info.data_length + 32] == hashlib.sha256(patched[:info.data_length]).digest()
    assert patched.endswith(tail) and len(patched) == len(image) + len(tail)
    # only the chosen field changes
    only_freq, _ = patch_flash_params(reg, chip, image, 0x1000, None, "80m", "keep")
    assert only_freq[2] == image[2] and only_freq[3] == (image[3] & 0xF0) | 0xF


def test_patch_leaves_other_offsets_and_non_images_alone(reg) -> None:  # type: ignore[no-untyped-def]
    chip, files = _build(reg, "esp32", [Segment(0x3FFB0000, b"\x55" * 32)])
    image = files[0].data
    assert patch_flash_params(reg, chip, image, 0x10000, "dio", None, None) == (image, [])
    assert patch_flash_params(reg, chip, image, 0x1000, "keep", "keep", "keep") == (image, [])
    junk = b"\x12" * 64
    out, warnings = patch_flash_params(reg, chip, junk, 0x1000, "dio", None, None)
    assert out == junk and "doesn't look like an image" in warnings[0]
    corrupt = image[:30]  # header fine, segment cut off
    out, warnings = patch_flash_params(reg, chip, corrupt, 0x1000, "dio", None, None)
    assert out == corrupt and warnings
    with pytest.raises(UsageError):
        patch_flash_params(reg, chip, image, 0x1000, None, None, "2MB-c1")


def test_esp8266_patch_touches_only_the_header(reg) -> None:  # type: ignore[no-untyped-def]
    chip, files = _build(reg, "esp8266", [Segment(0x3FFE8000, b"\x01" * 8)])
    image = files[0].data
    patched, warnings = patch_flash_params(reg, chip, image, 0, "dio", "80m", "4MB")
    assert not warnings
    assert patched[:2] == image[:2] and patched[2] == 2 and patched[3] == 0x4F and patched[4:] == image[4:]


def test_esp8266_v1_splits_irom_into_its_own_file(reg) -> None:  # type: ignore[no-untyped-def]
    chip, files = _build(reg, "esp8266", [Segment(0x40100000, b"\x01" * 8), Segment(0x40210000, b"\x02" * 12)])
    assert [(f.suffix, f.flash_offset) for f in files] == [("0x00000.bin", 0), ("0x10000.bin", 0x10000)]
    assert files[1].data == b"\x02" * 12
    info = reg.chip_hook(chip).esptk_read_image(chip=chip, data=files[0].data)
    assert [s.addr for s in info.segments] == [0x40100000] and info.checksum_valid


def test_make_image_builds_a_v1_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x01\x02\x03")
    (tmp_path / "b.bin").write_bytes(b"\x04" * 8)
    out = tmp_path / "img.bin"
    rc = main(["--chip", "esp8266", "make-image", "-f", str(tmp_path / "a.bin"), "-a", "0x40100000",
               "-f", str(tmp_path / "b.bin"), "-a", "0x3ffe8000", "-e", "0x40100004", str(out)])
    assert rc == 0
    data = out.read_bytes()
    assert data[:8] == bytes([0xE9, 2, 0, 0]) + (0x40100004).to_bytes(4, "little")
    assert data[8:20] == (0x40100000).to_bytes(4, "little") + (4).to_bytes(4, "little") + b"\x01\x02\x03\x00"
    assert main(["--chip", "esp8266", "image-info", str(out)]) == 0
    assert "Checksum: 0x" in capsys.readouterr().out


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(args)
    return rc, capsys.readouterr().err


def test_elf2image_without_chip_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _run(["elf2image", "-o", str(tmp_path / "x.bin"), str(tmp_path / "whatever.elf")], capsys)
    assert rc == 2 and "--chip" in err and not list(tmp_path.iterdir())


@pytest.mark.parametrize("content", [b"", b"\x7fELF\x01\x01" + bytes(20), b"not an elf at all" * 10])
def test_bad_elf_leaves_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    src = tmp_path / "bad.elf"
    src.write_bytes(content)
    rc, err = _run(["--chip", "esp32", "elf2image", "-o", str(tmp_path / "x.bin"), str(src)], capsys)
    assert rc == 2 and "error:" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.elf"]


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance inputs not found")
def test_truncated_elf_of_v1_leaves_neither_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = (CONFORMANCE / "esp8266-nonosssdk20-iotdemo.elf").read_bytes()
    src = tmp_path / "app.elf"
    src.write_bytes(data[: len(data) - 5000])
    rc, err = _run(["--chip", "esp8266", "elf2image", str(src)], capsys)
    assert rc == 2 and "truncated" in err
    assert [p.name for p in tmp_path.iterdir()] == ["app.elf"]


def test_merge_bin_failures_leave_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "one.bin"
    f.write_bytes(bytes(1024))
    out = tmp_path / "merged.bin"
    for args in (["0x0", str(f), "0x400", str(f)],            # same sector
                 ["0xZZ", str(f)],                             # bad address
                 ["0x0", str(tmp_path / "missing.bin")],       # missing file
                 ["0x0"]):                                     # no file for the address
        rc, err = _run(["--chip", "esp32", "merge-bin", "-o", str(out), *args], capsys)
        assert rc == 2 and "error:" in err, args
        assert not out.exists()
    rc, err = _run(["--chip", "esp32", "merge-bin", "-o", str(tmp_path / "nodir" / "m.bin"), "0x0", str(f)], capsys)
    assert rc == 2 and "cannot write" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.bin"]


def test_flash_size_must_exist_for_the_chip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _run(["--chip", "esp32", "elf2image", "--flash-size", "512KB", str(tmp_path / "a.elf")], capsys)
    assert rc == 2 and "512KB" in err
