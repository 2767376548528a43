"""ESP32 eFuse support: the 3/4 coding scheme, the program/read sequence with its timing, and how
the chip-specific value classes (MAC with CRC, SPI pins, VRef, ADC points) read and parse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from esptk.chip import RegisterAccess
from esptk.efuse import Block, CodingScheme, EfuseError, EfuseSupport, Field, Snapshot

from .efuse_layout import ADC_FIELDS, BASE, CUSTOM_MAC_FIELDS, LAYOUT, POSTPONED
from .spec import APB_CTL_DATE

CLK_REG, CONF_REG, CMD_REG, DAC_CONF_REG, DEC_STATUS_REG = (BASE + o for o in (0xF8, 0xFC, 0x104, 0x118, 0x11C))
CONF_PROGRAM, CONF_READ = 0x5A5A, 0x5AA5
CMD_READ, CMD_PROGRAM = 0x1, 0x2
#: APB MHz -> (CLK_SEL0, CLK_SEL1, DAC_CLK_DIV) (SECURITY.md 1.5)
TIMING = {26: (250, 255, 52), 40: (160, 255, 80), 80: (80, 128, 100)}
RTC_CALI_REG = 0x3FF5F06C
POLLS = 50
ADC_OFFSETS = {"ADC1_TP_LOW": 278, "ADC2_TP_LOW": 421, "ADC1_TP_HIGH": 3265, "ADC2_TP_HIGH": 3406}


def crc8(data: bytes) -> int:
    """CRC-8 of a MAC in displayed byte order (reflected polynomial 0x8C, init 0; SECURITY.md 3)."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def check_bytes(group: bytes) -> bytes:
    """The two 3/4 check bytes of a 6-byte group: XOR of the bytes, sum of (i+1) * popcount."""
    x = 0
    for b in group:
        x ^= b
    return bytes((x, sum((i + 1) * bin(b).count("1") for i, b in enumerate(group))))


class ThreeFour(CodingScheme):
    """3/4: 24 data bytes in four 6-byte groups, each followed by its XOR and weighted popcount."""

    name = "3/4"

    def data_bytes(self, block: Block) -> int:
        return 24

    def encode(self, block: Block, data: bytes) -> list[int]:
        out = bytearray()
        for g in range(0, 24, 6):
            out += data[g:g + 6] + check_bytes(data[g:g + 6])
        return [int.from_bytes(out[i:i + 4], "little") for i in range(0, 32, 4)]

    def merge(self, block: Block, old: bytes, new: bytes) -> tuple[bytes, str | None]:
        out = bytearray(24)
        for g in range(0, 24, 6):
            o, n = old[g:g + 6], new[g:g + 6]
            if o == n:
                continue
            if any(o):
                return bytes(out), (f"Burn into {block.name} is forbidden (3/4 coding scheme does not allow this): "
                                    f"bytes {g}..{g + 5} already hold data")
            out[g:g + 6] = n
        return bytes(out), None


def decode_words(words: Sequence[int]) -> tuple[bytes, bool]:
    """3/4-coded words -> (24 data bytes, all check bytes right)."""
    raw = b"".join(w.to_bytes(4, "little") for w in words)
    data, ok = bytearray(), True
    for g in range(0, 32, 8):
        ok = ok and check_bytes(raw[g:g + 6]) == raw[g + 6:g + 8]
        data += raw[g:g + 6]
    return bytes(data), ok


class ESP32Efuse(EfuseSupport):
    layout = LAYOUT
    postponed = POSTPONED

    def coding_scheme(self, block0: bytes) -> CodingScheme:
        scheme = int.from_bytes(block0[24:28], "little") & 3
        if scheme == 2:
            raise EfuseError("Coding scheme (2) not supported", hint="the Repeat scheme is not used on the ESP32")
        return ThreeFour() if scheme == 1 else CodingScheme()

    def read_extra(self, regs: RegisterAccess) -> dict[str, int]:
        return {"apb_ctl_date": regs.read_reg(APB_CTL_DATE), "rtc_cali": regs.read_reg(RTC_CALI_REG)}

    def coding_errors(self, regs: RegisterAccess) -> tuple[int, frozenset[int]]:
        reg = regs.read_reg(DEC_STATUS_REG) & 0xFFF
        return reg, frozenset({1, 2, 3}) if reg else frozenset()

    # --- program / read sequence --------------------------------------------------------------
    def apb_mhz(self, regs: RegisterAccess) -> int:
        """The crystal (the APB clock of the ROM loader) from the ROM's RTC calibration."""
        ck8m = regs.read_reg(BASE + 0x10) & 0xFF
        if not ck8m:
            return 40
        hz = ((regs.read_reg(RTC_CALI_REG) >> 7) & 0x1FFFFFF) * 15625 * ck8m / 40
        return 40 if hz > 33e6 else 26

    def _command(self, regs: RegisterAccess, conf: int, cmd: int) -> None:
        regs.write_reg(CONF_REG, conf)
        regs.write_reg(CMD_REG, cmd)
        for _ in range(POLLS):
            if regs.read_reg(CMD_REG) == 0:
                return
        raise EfuseError("timed out waiting for the eFuse controller", hint="is the chip still in the loader?")

    def program(self, regs: RegisterAccess, block: Block, words: Sequence[int]) -> None:
        for i, w in enumerate(words[:8 if block.index else 7]):
            regs.write_reg(block.write_addr + 4 * i, w)
        sel0, sel1, dac = TIMING[self.apb_mhz(regs)]
        regs.write_reg(DAC_CONF_REG, dac, 0xFF)
        regs.write_reg(CLK_REG, sel0, 0xFF)
        regs.write_reg(CLK_REG, sel1 << 8, 0xFF00)
        self._command(regs, CONF_PROGRAM, CMD_PROGRAM)
        self._command(regs, CONF_READ, CMD_READ)

    # --- fields -------------------------------------------------------------------------------
    def fields(self, snap: Snapshot) -> list[Field]:
        have = list(self.layout.fields)
        if not snap.raw_of("BLK3_PART_RESERVE"):
            have = [f for f in have if f not in ADC_FIELDS]
        return have

    def calculate(self, f: Field, snap: Snapshot) -> int:
        if f.name == "PKG_VERSION":
            return snap.raw_of("CHIP_PACKAGE_4BIT") * 8 + snap.raw_of("CHIP_PACKAGE")
        c = ((snap.extra.get("apb_ctl_date", 0) >> 31) << 2) | (snap.raw_of("CHIP_VER_REV2") << 1) | snap.raw_of(
            "CHIP_VER_REV1")
        return {0: 0, 1: 1, 3: 2, 7: 3}.get(c, 0)

    def format(self, f: Field, raw: int, snap: Snapshot) -> tuple[Any, str] | None:
        if f.kind == "mac":
            data = raw.to_bytes(6, "little")
            shown = data[::-1] if f.name == "MAC" else data
            stored = snap.raw_of("MAC_CRC" if f.name == "MAC" else "CUSTOM_MAC_CRC")
            want = crc8(shown)
            check = "OK" if stored == want else f"invalid - calculated 0x{want:02x}"
            text = ":".join(f"{b:02x}" for b in shown) + f" (CRC 0x{stored:02x} {check})"
            return text, text
        if f.kind == "spipin":
            v = raw + 2 if raw in (30, 31) else raw
            return v, str(v)
        if f.kind == "vref":
            mv = 1100 + (-1 if raw & 0x10 else 1) * (raw & 0xF) * 7
            return mv, str(mv)
        if f.kind == "adc_tp":
            n = snap.length(f)
            delta = raw - (1 << n) if raw >> (n - 1) else raw
            v = ADC_OFFSETS[f.name] + delta * 4
            return v, str(v)
        return None

    def parse(self, f: Field, text: str | None, snap: Snapshot) -> int | None:
        if f.kind == "mac" and text is not None:
            return int.from_bytes(parse_mac(text), "little")
        if f.kind == "spipin" and text is not None:
            pin = int(text, 0)
            if pin in (30, 31):
                raise EfuseError("IO pins 30 & 31 cannot be set for SPI flash. 0-29, 32 & 33 only.")
            if pin > 33 or pin < 0:
                raise EfuseError(f"IO pin {pin} cannot be set for SPI flash. 0-29, 32 & 33 only.")
            return pin - 2 if pin >= 32 else pin
        if f.kind == "bitcount" and text is None:
            old = snap.raw(f)
            return old | ((old + 1) & ~old) if old != 0xFFFFFFFF else old
        return None

    # --- commands with ESP32 rules -------------------------------------------------------------
    def key_block(self, name: str) -> tuple[Block, bool, bool, bool]:
        purposes = {"flash_encryption": (1, True, True), "secure_boot_v1": (2, True, True),
                    "secure_boot_v2": (2, False, False)}
        if name in purposes:
            idx, rev, rd = purposes[name]
            return self.layout.block(idx), rev, rd, True
        return super().key_block(name)

    def stage_special(self, plan: Any, f: Field, text: str | None) -> bool:
        if f.name == "CUSTOM_MAC" and text is not None:  # burning CUSTOM_MAC = burn-custom-mac
            self.stage_custom_mac(plan, text)
            return True
        return False

    def stage_custom_mac(self, plan: Any, text: str) -> None:
        mac = parse_mac(text)
        snap = plan.snap
        version = snap.raw_of("MAC_VERSION")
        if version not in (0, 1) and not plan.force:
            raise EfuseError(f"MAC_VERSION = {version}, should be 0 or 1.")
        crc_f, mac_f = CUSTOM_MAC_FIELDS
        if version == 0:
            plan.stage(self.layout.field("MAC_VERSION"), 1)
        plan.stage(mac_f, int.from_bytes(mac, "little"))
        plan.stage(crc_f, crc8(mac))

    def custom_mac(self, snap: Snapshot) -> str | None:
        version = snap.raw_of("MAC_VERSION")
        if not version:
            return None
        return f"Custom MAC Address version {version}: {snap.value(self.layout.field('CUSTOM_MAC'))[1]}"

    def stage_flash_voltage(self, plan: Any, voltage: str) -> None:
        snap = plan.snap
        v = voltage.upper()
        if v not in ("1.8V", "3.3V", "OFF"):
            raise EfuseError(f"{voltage!r} is not 1.8V, 3.3V or OFF")
        if v == "OFF" and snap.raw_of("XPD_SDIO_REG"):
            raise EfuseError("Can't set flash regulator to OFF as XPD_SDIO_REG eFuse is already burned.")
        if v == "1.8V" and snap.raw_of("XPD_SDIO_TIEH"):
            raise EfuseError("Can't set regulator to 1.8V is XPD_SDIO_TIEH eFuse is already burned.")
        names = {"OFF": ("XPD_SDIO_FORCE",), "1.8V": ("XPD_SDIO_FORCE", "XPD_SDIO_REG"),
                 "3.3V": ("XPD_SDIO_FORCE", "XPD_SDIO_REG", "XPD_SDIO_TIEH")}[v]
        for n in names:
            plan.stage(self.layout.field(n), 1)

    def check_staged(self, plan: Any) -> list[str]:
        """Secure Boot v2 verifies with the digest in BLOCK2: it must stay readable once ABS_DONE_1 is
        (or is about to be) burnt. Checked however BLOCK2's read protection was asked for."""
        snap = plan.snap

        def after(name: str) -> int:
            staged = plan.staged.get(name)
            return snap.raw_of(name) | (staged.raw if staged else 0)

        major = self.calculate(self.layout.field("WAFER_VERSION_MAJOR"), snap)
        rd_block2 = 1 << (self.layout.block(2).rd_dis or 0)
        if (major >= 3 and after("ABS_DONE_1") and not after("ABS_DONE_0") and after("RD_DIS") & rd_block2
                and not snap.raw_of("RD_DIS") & rd_block2):
            return ["Secure Boot V2 is on (ABS_DONE_1 = True), BLOCK2 must be readable, stop this operation!"]
        return []

    def key_digest(self, snap: Snapshot, pem: bytes) -> tuple[Block, bytes]:
        """Secure Boot v2: SHA-256 of the RSA-3072 key's n, e, R^2 mod n and M' (SECURITY.md 5.5)."""
        if snap.scheme.name != "NONE":
            raise EfuseError("burn-key-digest only works with 'None' coding scheme")
        rev = self.calculate(self.layout.field("WAFER_VERSION_MAJOR"), snap)
        minor = snap.raw_of("WAFER_VERSION_MINOR")
        if rev < 3:
            raise EfuseError(f"Incorrect chip revision for Secure boot v2. Detected: v{rev}.{minor}. Expected: >= v3.0")
        return self.layout.block(2), rsa_key_digest(pem)

    def summary_lines(self, snap: Snapshot) -> list[str]:
        head = "Flash voltage (VDD_SDIO) "
        if not snap.raw_of("XPD_SDIO_FORCE"):
            line = head + "determined by GPIO12 on reset (High for 1.8V, Low/NC for 3.3V)"
        elif not snap.raw_of("XPD_SDIO_REG"):
            line = head + "internal regulator disabled by efuse."
        elif not snap.raw_of("XPD_SDIO_TIEH"):
            line = head + "set to 1.8V by efuse."
        else:
            line = head + "set to 3.3V by efuse."
        return [line]

    def adc_info(self, snap: Snapshot) -> list[str]:
        vref = self.layout.field("ADC_VREF")
        out = [f"ADC VRef calibration: {snap.value(vref)[1]}mV" if snap.raw(vref)
               else "ADC VRef calibration: None (1100mV nominal)"]
        if snap.raw_of("BLK3_PART_RESERVE"):
            labels = ("ADC1 Low reading  (150mV)", "ADC1 High reading (850mV)", "ADC2 Low reading  (150mV)",
                      "ADC2 High reading (850mV)")
            out.append("ADC readings stored in eFuse BLOCK3:")
            out += [f"    {label}: {snap.value(f)[1]}" for label, f in zip(labels, ADC_FIELDS)]
        return out


def parse_mac(text: str) -> bytes:
    t = text.split(" ")[0]
    if t.count(":") != 5:
        raise EfuseError("MAC Address needs to be a 6-byte hexadecimal format separated by colons (:)!")
    hexdigits = t.replace(":", "")
    try:
        mac = bytes.fromhex(hexdigits)
    except ValueError:
        mac = b""
    if len(hexdigits) != 12 or len(mac) != 6:
        raise EfuseError("MAC Address needs to be a 6-byte hexadecimal number (12 hexadecimal characters)!")
    if mac[0] & 1:
        raise EfuseError("Custom MAC must be a unicast MAC!")
    return mac


def rsa_key_digest(pem: bytes) -> bytes:
    """The Secure Boot v2 digest of an RSA-3072 key (private or public PEM)."""
    import hashlib

    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        raise EfuseError("reading PEM keys needs the 'cryptography' package", hint="pip install cryptography") from None
    try:
        key: Any = serialization.load_pem_private_key(pem, None).public_key()
    except (ValueError, TypeError):
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            raise EfuseError("the key file is not a PEM key", hint="give an RSA-3072 private or public key") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 3072:
        raise EfuseError("the ESP32 verifies only RSA-3072 keys", hint="espsecure generate-signing-key --version 2")
    nums = key.public_numbers()
    n, e = nums.n, nums.e
    r2 = pow(2, 2 * 3072, n)
    m_prime = (-pow(n, -1, 1 << 32)) % (1 << 32)
    blob = n.to_bytes(384, "little") + e.to_bytes(4, "little") + r2.to_bytes(384, "little") + m_prime.to_bytes(
        4, "little")
    return hashlib.sha256(blob).digest()
