"""``esptk efuse`` against the virtual ESP32: what a factory operator sees and what the chip keeps."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Chip

KEY = bytes(range(0xA0, 0xC0))  # espefuse's test key "256bit": a0 a1 ... bf


def hexline(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


def test_fresh_chip_summary(chip: Chip) -> None:
    s = chip.summary()
    assert s["MAC"]["value"] == "24:0a:c4:12:34:56 (CRC 0xf5 OK)"  # the sim's default MAC, valid CRC
    assert s["WAFER_VERSION_MAJOR"]["value"] == 3 and s["CODING_SCHEME"]["value"] == "NONE (BLK1-3 len=256 bits)"
    assert all(f["readable"] and f["writeable"] for f in s.values())
    text = chip.esptk("summary")
    assert text.code == 0 and "Mac fuses:" in text.out and "24:0a:c4:12:34:56 (CRC 0xf5 OK)" in text.out


def test_custom_mac_burns_with_crc_and_version_and_cannot_be_changed(chip: Chip) -> None:
    r = chip.esptk("burn-custom-mac", "AA:CD:EF:11:22:33", "--do-not-confirm")
    assert r.code == 0, r.err
    assert chip.esptk("get-custom-mac").out.strip() == "Custom MAC Address version 1: aa:cd:ef:11:22:33 (CRC 0x63 OK)"
    s = chip.summary()
    assert s["MAC_VERSION"]["value"] == "Custom MAC in BLOCK3" and s["CUSTOM_MAC_CRC"]["value"] == 0x63
    assert s["BLOCK3"]["value"].startswith("63 aa cd ef 11 22 33 00")
    again = chip.esptk("burn-custom-mac", "AA:CD:EF:11:22:34", "--do-not-confirm")
    assert again.code == 1 and "nothing was burnt" in again.err and "clear burnt bits" in again.err
    assert chip.summary()["BLOCK3"] == s["BLOCK3"]


def test_bad_custom_macs_are_refused(chip: Chip) -> None:
    for mac, words in (("AB:CD:EF:11:22:33", "unicast"), ("AA:CD:EF:11:22", "separated by colons"),
                       ("AA:CD:EF:11:22:3Z", "12 hexadecimal")):
        r = chip.esptk("burn-custom-mac", mac, "--do-not-confirm")
        assert r.code == 1 and words in r.err and "Traceback" not in r.err
    assert chip.value("MAC_VERSION") == 0


def test_every_burn_needs_burn_typed(chip: Chip) -> None:
    r = chip.esptk("burn", "JTAG_DISABLE", "1", stdin="yes\n")
    assert r.code == 1 and "confirmation" in r.err
    assert chip.value("JTAG_DISABLE") is False
    r = chip.esptk("burn_efuse", "JTAG_DISABLE", "1", stdin="BURN\n")  # espefuse's spelling too
    assert r.code == 0, r.err
    assert chip.value("JTAG_DISABLE") is True


def test_a_batch_is_checked_completely_before_anything_is_burnt(chip: Chip) -> None:
    r = chip.esptk("burn", "CLK8M_FREQ", "0x40", "ABS_DONE_0", "1", "MAC", "00:11:22:33:44:55",
                   "WAFER_VERSION_MAJOR", "1", "--do-not-confirm")
    assert r.code == 1
    assert "Writing Factory MAC address is not supported" in r.err and "WAFER_VERSION_MAJOR" in r.err
    assert "CLK8M_FREQ" in r.err  # 0x80 is burnt: 0x40 would clear a bit
    s = chip.summary()
    assert s["ABS_DONE_0"]["value"] is False and s["CLK8M_FREQ"]["value"] == 128


def test_flash_encryption_key_is_stored_reversed_and_protected(chip: Chip, tmp_path: Path) -> None:
    key = tmp_path / "key.bin"
    key.write_bytes(KEY)
    r = chip.esptk("burn-key", "flash_encryption", str(key), "--do-not-confirm", "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["programmed"] == ["BLOCK1", "BLOCK0 (postponed)"] and report["unverifiable"] == ["BLOCK1"]
    s = chip.summary()
    assert s["BLOCK1"]["value"] == hexline(bytes(32)).replace("0", "?")
    assert (s["BLOCK1"]["readable"], s["BLOCK1"]["writeable"]) == (False, False)
    assert (s["RD_DIS"]["value"], s["WR_DIS"]["value"]) == (1, 1 << 7)


def test_unprotected_keys_read_back_in_each_names_byte_order(chip: Chip, tmp_path: Path) -> None:
    key = tmp_path / "key.bin"
    key.write_bytes(KEY)
    r = chip.esptk("burn-key", "flash_encryption", str(key), "BLOCK3", str(key), "--no-protect-key",
                   "--do-not-confirm")
    assert r.code == 0, r.err
    s = chip.summary()
    assert s["BLOCK1"]["value"] == hexline(KEY[::-1]) and s["BLOCK3"]["value"] == hexline(KEY)
    assert s["WR_DIS"]["value"] == 0 and s["RD_DIS"]["value"] == 0
    short = tmp_path / "short.bin"
    short.write_bytes(KEY[:16])
    r = chip.esptk("burn-key", "BLOCK2", str(short), "--do-not-confirm")
    assert r.code == 1 and "Incorrect key file size 16" in r.err


def test_hex_values_with_0x_are_numbers_without_are_bytes(chip: Chip) -> None:
    number = "0x00010203040506070809111111111111111111111111111111110000112233ff"
    r = chip.esptk("burn", "BLOCK1", number, "BLOCK2", number[2:], "--do-not-confirm")
    assert r.code == 0, r.err
    dump = {line.split()[0]: line.split("dump: ")[1] for line in chip.esptk("dump").out.splitlines()}
    assert dump["BLOCK1"] == "112233ff 11110000 11111111 11111111 11111111 08091111 04050607 00010203"
    assert dump["BLOCK2"] == "03020100 07060504 11110908 11111111 11111111 11111111 00001111 ff332211"


def test_burn_bit_and_burn_block_data(chip: Chip, tmp_path: Path) -> None:
    bits = ["0", "1", "2", "4", "8", "16", "32", "64", "96", "128", "160", "192", "224", "255"]
    assert chip.esptk("burn-bit", "BLOCK3", *bits, "--do-not-confirm").code == 0
    assert chip.value("BLOCK3") == "17 01 01 00 01 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00 " \
                                   "01 00 00 00 01 00 00 80"
    r = chip.esptk("burn-bit", "BLOCK0", "224", "--do-not-confirm")
    assert r.code == 1 and "[0..223]" in r.err
    data = tmp_path / "d.bin"
    data.write_bytes(KEY)
    assert chip.esptk("burn-block-data", "BLOCK2", str(data), "--do-not-confirm").code == 0
    assert chip.esptk("dump").out.splitlines()[2].endswith("a3a2a1a0 a7a6a5a4 abaaa9a8 afaeadac b3b2b1b0 "
                                                           "b7b6b5b4 bbbab9b8 bfbebdbc")
    data.write_bytes(KEY[:16])
    r = chip.esptk("burn-block-data", "BLOCK1", str(data), "--do-not-confirm")
    assert r.code == 1 and "Data does not fit" in r.err


def test_write_protection_is_enforced_by_the_chip_and_reported(chip: Chip) -> None:
    assert chip.esptk("write-protect-efuse", "CLK8M_FREQ", "--do-not-confirm").code == 0
    s = chip.summary()
    assert s["CLK8M_FREQ"]["writeable"] is False and s["ADC_VREF"]["writeable"] is False  # same WR_DIS bit 4
    refused = chip.esptk("burn", "CLK8M_FREQ", "0xff", "--do-not-confirm")
    assert refused.code == 1 and "write-protected" in refused.err
    # forced past the check, the chip ignores the protected bits: the read-back says so
    forced = chip.esptk("burn", "CLK8M_FREQ", "0xff", "--do-not-confirm", "--force-write-always", "--json")
    assert forced.code == 1 and "did not take: CLK8M_FREQ" in forced.err
    report = json.loads(forced.out)
    assert report["failed"] == ["CLK8M_FREQ"] and report["programmed"] == ["BLOCK0"]
    assert chip.value("CLK8M_FREQ") == 128


def test_read_protection_hides_a_block(chip: Chip, tmp_path: Path) -> None:
    data = tmp_path / "d.bin"
    data.write_bytes(KEY)
    assert chip.esptk("burn-block-data", "BLOCK3", str(data), "--do-not-confirm").code == 0
    assert chip.esptk("read-protect", "BLOCK3", "--do-not-confirm").code == 0
    s = chip.summary()
    assert s["BLOCK3"]["value"].startswith("?? ??") and s["BLOCK3"]["readable"] is False
    assert s["CUSTOM_MAC"]["readable"] is False
    again = chip.esptk("burn-bit", "BLOCK3", "0", "--do-not-confirm")
    assert again.code == 1 and "read-protected" in again.err


def test_three_four_coding_scheme(chip: Chip, tmp_path: Path) -> None:
    assert chip.esptk("burn", "CODING_SCHEME", "1", "--do-not-confirm").code == 0
    s = chip.summary()
    assert s["BLOCK1"]["efuse_type"] == "bytes:24" and s["CODING_SCHEME"]["value"] == "3/4 (BLK1-3 len=192 bits)"
    data = tmp_path / "d.bin"
    data.write_bytes(bytes(range(1, 7)) + bytes(18))  # group 0 only
    assert chip.esptk("burn-block-data", "BLOCK3", str(data), "--do-not-confirm").code == 0
    assert chip.value("BLOCK3").startswith("01 02 03 04 05 06 00")
    data.write_bytes(bytes(range(1, 7)) + bytes([9]) + bytes(17))  # group 0 again (same) + group 1
    assert chip.esptk("burn-block-data", "BLOCK3", str(data), "--do-not-confirm").code == 0
    data.write_bytes(bytes([0xFF]) + bytes(23))  # group 0 with different data
    r = chip.esptk("burn-block-data", "BLOCK3", str(data), "--do-not-confirm")
    assert r.code == 1 and "3/4 coding scheme does not allow this" in r.err
    assert chip.esptk("check-error").code == 0


def test_set_flash_voltage_and_adc_info(chip: Chip) -> None:
    assert chip.esptk("set-flash-voltage", "1.8V", "--do-not-confirm").code == 0
    assert "set to 1.8V by efuse" in chip.esptk("summary").out
    assert chip.esptk("set-flash-voltage", "OFF", "--do-not-confirm").code == 1
    assert chip.esptk("set-flash-voltage", "3.3V", "--do-not-confirm").code == 0
    assert "set to 3.3V by efuse" in chip.esptk("summary").out
    assert chip.esptk("adc-info").out.strip() == "ADC VRef calibration: 1170mV"


def test_unknown_names_are_usage_errors_without_tracebacks(chip: Chip) -> None:
    for args in (("burn", "NO_SUCH_FUSE", "1"), ("burn", "JTAG_DISABLE", "2"), ("burn", "CLK8M_FREQ", "0x1ff"),
                 ("read-protect", "JTAG_DISABLE"), ("burn-bit", "BLOCK9", "1")):
        r = chip.esptk(*args, "--do-not-confirm")
        assert r.code in (1, 2) and "Traceback" not in r.err and r.err.strip(), args


def test_do_not_confirm_also_works_before_the_command(chip: Chip) -> None:
    r = chip.esptk("--do-not-confirm", "burn-efuse", "DISABLE_DL_CACHE", "1")  # espefuse's global option
    assert r.code == 0, r.err
    assert chip.value("DISABLE_DL_CACHE") is True


def test_a_burn_cut_short_reports_what_was_and_was_not_programmed(chip: Chip, tmp_path: Path) -> None:
    """The link dies after the key block was programmed, as the protection bits' cycle starts: the error
    says which cycle took, which was cut and which was never tried."""
    import pytest

    from esptk.efuse import BurnFailed, BurnPlan, Snapshot
    from esptk.plugins import make_plugin_manager
    from esptk.session import connect

    reg = make_plugin_manager()
    s = connect(reg, port=chip.url, chip="esp32", use_stub=False)
    support = reg.chip_hook(s.chip).esptk_efuse(chip=s.chip)
    plan = BurnPlan(Snapshot.read(support, s.loader))
    block, _rev, _rd, wr = support.key_block("BLOCK2")
    plan.stage_block(block, KEY)
    plan.stage(support.layout.field("WR_DIS"), 1 << 8)
    plan.stage(support.layout.field("JTAG_DISABLE"), 1)

    class CutAfterFirstCycle:
        """The real loader, whose link is pulled after the first program cycle has completed."""

        cycles = 0

        def read_reg(self, addr: int) -> int:
            return s.loader.read_reg(addr)

        def write_reg(self, addr: int, value: int, mask: int = 0xFFFFFFFF, delay_us: int = 0) -> None:
            if addr == 0x3FF5A0FC and value == 0x5A5A:  # the program op code starts a cycle
                self.cycles += 1
                if self.cycles == 3:  # after BLOCK2, and the key's protection bits (WR_DIS) in BLOCK0
                    s.transport.close()
            s.loader.write_reg(addr, value, mask, delay_us)

    with pytest.raises(BurnFailed) as info:
        plan.burn(CutAfterFirstCycle())
    report = info.value.report
    assert report.programmed == ["BLOCK2", "BLOCK0"] and report.interrupted == "BLOCK0 (postponed)"
    assert report.pending == []
    s2 = chip.summary()
    assert s2["BLOCK2"]["value"] == hexline(KEY) and s2["JTAG_DISABLE"]["value"] is True
    assert s2["WR_DIS"]["value"] == 0  # the cut cycle did not take: the summary shows it


def test_block2_stays_readable_under_secure_boot_v2(chip: Chip) -> None:
    assert chip.esptk("burn", "ABS_DONE_1", "1", "--do-not-confirm").code == 0
    for name in ("BLOCK2", "SECURE_BOOT_KEY"):  # espefuse checks only the first spelling; esptk both
        r = chip.esptk("read-protect", name, "--do-not-confirm")
        assert r.code == 1 and "BLOCK2 must be readable" in r.err
    assert chip.summary()["BLOCK2"]["readable"] is True
    assert chip.esptk("read-protect", "BLOCK3", "--do-not-confirm").code == 0


def test_burning_custom_mac_by_name_brings_its_crc_and_version(chip: Chip) -> None:
    assert chip.esptk("burn", "CUSTOM_MAC", "48:63:92:15:72:16", "--do-not-confirm").code == 0
    s = chip.summary()
    assert s["CUSTOM_MAC"]["value"] == "48:63:92:15:72:16 (CRC 0x75 OK)" and s["MAC_VERSION"]["raw_value"] == "0x01"


def test_a_chip_without_efuse_support_says_so(chip: Chip) -> None:
    r = chip._cli("-q", "-p", "sim://esp8266", "efuse", "summary")
    assert r.code == 2 and "ESP8266 has no eFuse support" in r.err and "Traceback" not in r.err
