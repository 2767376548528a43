"""The ESP32's eFuse blocks and fields (SECURITY.md 1.2, 1.3, 2.1): data only."""

from __future__ import annotations

from esptk.efuse import Block, Field, Layout

BASE = 0x3FF5A000
#: the other address view of the eFuse registers (PROTOCOL.md, SECURITY.md 1.1)
AHB_BASE = 0x6001A000
WINDOW = 0x200

BLOCKS = (
    Block(0, "BLOCK0", BASE + 0x000, BASE + 0x01C, 7),
    Block(1, "BLOCK1", BASE + 0x038, BASE + 0x098, 8, ("flash_encryption",), wr_dis=7, rd_dis=0, coded=True),
    Block(2, "BLOCK2", BASE + 0x058, BASE + 0x0B8, 8, ("secure_boot_v1", "secure_boot_v2"), wr_dis=8, rd_dis=1,
          coded=True),
    Block(3, "BLOCK3", BASE + 0x078, BASE + 0x0D8, 8, (), wr_dis=9, rd_dis=2, coded=True),
)

CODING = {0: "NONE (BLK1-3 len=256 bits)", 1: "3/4 (BLK1-3 len=192 bits)",
          2: "REPEAT (BLK1-3 len=128 bits) not supported", 3: "NONE (BLK1-3 len=256 bits)"}
CPU_FREQ_LOW = ("If set alongside EFUSE_RD_CHIP_CPU_FREQ_RATED; the ESP32's max CPU frequency is rated for "
                "160MHz. 240MHz otherwise")
VOL_LEVEL = ("This field stores the voltage level for CPU to run at 240 MHz; or for flash/PSRAM to run at 80 MHz."
             "0x0: level 7; 0x1: level 6; 0x2: level 5; 0x3: level 4. (RO)")
ADC_NOTE = "Only valid if EFUSE_RD_BLK3_PART_RESERVE"

# name, word, pos, bits, kind, category, WR_DIS, RD_DIS, description, aliases
_B0: tuple[tuple[str, int, int, int, str, str, int | None, int | None, str, tuple[str, ...]], ...] = (
    ("WR_DIS", 0, 0, 16, "uint", "config", 1, None, "Efuse write disable mask", ()),
    ("RD_DIS", 0, 16, 4, "uint", "config", 0, None, "Disable reading from BlOCK1-3", ()),
    ("FLASH_CRYPT_CNT", 0, 20, 7, "uint", "flash", 2, None,
     "Flash encryption is enabled if this field has an odd number of bits set", ()),
    ("UART_DOWNLOAD_DIS", 0, 27, 1, "bool", "security", 2, None,
     "Disable UART download mode. Valid for ESP32 V3 and newer; only", ()),
    ("MAC", 1, 0, 48, "mac", "MAC", 3, None, "MAC address", ("MAC_FACTORY",)),
    ("MAC_CRC", 2, 16, 8, "uint", "MAC", 3, None, "CRC8 for MAC address", ("MAC_FACTORY_CRC",)),
    ("DISABLE_APP_CPU", 3, 0, 1, "bool", "config", 3, None, "Disables APP CPU", ("CHIP_VER_DIS_APP_CPU",)),
    ("DISABLE_BT", 3, 1, 1, "bool", "config", 3, None, "Disables Bluetooth", ("CHIP_VER_DIS_BT",)),
    ("CHIP_PACKAGE_4BIT", 3, 2, 1, "bool", "identity", None, None, "Chip package identifier #4bit",
     ("CHIP_VER_PKG_4BIT",)),
    ("DIS_CACHE", 3, 3, 1, "bool", "config", 3, None, "Disables cache", ("CHIP_VER_DIS_CACHE",)),
    ("SPI_PAD_CONFIG_HD", 3, 4, 5, "spipin", "spi pad", None, None, "read for SPI_pad_config_hd", ()),
    ("CHIP_PACKAGE", 3, 9, 3, "uint", "identity", None, None, "Chip package identifier", ("CHIP_VER_PKG",)),
    ("CHIP_CPU_FREQ_LOW", 3, 12, 1, "bool", "config", None, None, CPU_FREQ_LOW, ()),
    ("CHIP_CPU_FREQ_RATED", 3, 13, 1, "bool", "config", None, None,
     "If set; the ESP32's maximum CPU frequency has been rated", ()),
    ("BLK3_PART_RESERVE", 3, 14, 1, "bool", "config", 10, 3, "BLOCK3 partially served for ADC calibration data",
     ()),
    ("CHIP_VER_REV1", 3, 15, 1, "bool", "identity", None, None, "bit is set to 1 for rev1 silicon", ()),
    ("CLK8M_FREQ", 4, 0, 8, "uint", "config", 4, None, "8MHz clock freq override", ("CK8M_FREQ",)),
    ("ADC_VREF", 4, 8, 5, "vref", "calibration", 4, None, "True ADC reference voltage", ()),
    ("XPD_SDIO_REG", 4, 14, 1, "bool", "vdd", 5, None, "read for XPD_SDIO_REG", ()),
    ("XPD_SDIO_TIEH", 4, 15, 1, "bool", "vdd", 5, None, "If XPD_SDIO_FORCE & XPD_SDIO_REG", ("SDIO_TIEH",)),
    ("XPD_SDIO_FORCE", 4, 16, 1, "bool", "vdd", 5, None, "Ignore MTDI pin (GPIO12) for VDD_SDIO on reset",
     ("SDIO_FORCE",)),
    ("SPI_PAD_CONFIG_CLK", 5, 0, 5, "spipin", "spi pad", 6, None, "Override SD_CLK pad (GPIO6/SPICLK)", ()),
    ("SPI_PAD_CONFIG_Q", 5, 5, 5, "spipin", "spi pad", 6, None, "Override SD_DATA_0 pad (GPIO7/SPIQ)", ()),
    ("SPI_PAD_CONFIG_D", 5, 10, 5, "spipin", "spi pad", 6, None, "Override SD_DATA_1 pad (GPIO8/SPID)", ()),
    ("SPI_PAD_CONFIG_CS0", 5, 15, 5, "spipin", "spi pad", 6, None, "Override SD_CMD pad (GPIO11/SPICS0)", ()),
    ("CHIP_VER_REV2", 5, 20, 1, "bool", "identity", None, None, "", ()),
    ("VOL_LEVEL_HP_INV", 5, 22, 2, "uint", "config", 3, None, VOL_LEVEL, ()),
    ("WAFER_VERSION_MINOR", 5, 24, 2, "uint", "identity", None, None, "", ()),
    ("FLASH_CRYPT_CONFIG", 5, 28, 4, "uint", "flash", 10, 3, "Flash encryption config (key tweak bits)",
     ("ENCRYPT_CONFIG",)),
    ("CODING_SCHEME", 6, 0, 2, "uint", "config", 10, 3, "Efuse variable block length scheme", ()),
    ("CONSOLE_DEBUG_DISABLE", 6, 2, 1, "bool", "config", 15, None, "Disable ROM BASIC interpreter fallback", ()),
    ("DISABLE_SDIO_HOST", 6, 3, 1, "bool", "config", None, None, "", ()),
    ("ABS_DONE_0", 6, 4, 1, "bool", "security", 12, None, "Secure boot V1 is enabled for bootloader image", ()),
    ("ABS_DONE_1", 6, 5, 1, "bool", "security", 13, None, "Secure boot V2 is enabled for bootloader image", ()),
    ("JTAG_DISABLE", 6, 6, 1, "bool", "jtag", 14, None, "Disable JTAG", ("DISABLE_JTAG",)),
    ("DISABLE_DL_ENCRYPT", 6, 7, 1, "bool", "security", 15, None, "Disable flash encryption in UART bootloader",
     ()),
    ("DISABLE_DL_DECRYPT", 6, 8, 1, "bool", "security", 15, None, "Disable flash decryption in UART bootloader",
     ()),
    ("DISABLE_DL_CACHE", 6, 9, 1, "bool", "config", 15, None, "Disable flash cache in UART bootloader", ()),
    ("KEY_STATUS", 6, 10, 1, "bool", "security", 10, 3, "Usage of efuse block 3 (reserved)", ()),
)

MEANINGS = {"CODING_SCHEME": CODING, "XPD_SDIO_TIEH": {1: "3.3V", 0: "1.8V"},
            "MAC_VERSION": {1: "Custom MAC in BLOCK3"}}
REFUSE = {"MAC": "Writing Factory MAC address is not supported", "ADC_VREF": "Writing to VRef is not supported.",
          "WAFER_VERSION_MAJOR": "Burning WAFER_VERSION_MAJOR is not supported",
          "PKG_VERSION": "Burning PKG_VERSION is not supported"}


def _f(name: str, block: int, word: int | None, pos: int | None, bits: int, kind: str, cat: str,
       wr: int | None, rd: int | None, desc: str, aliases: tuple[str, ...] = ()) -> Field:
    return Field(name, block, word, pos, bits, kind, cat, desc, wr, rd, aliases, MEANINGS.get(name, {}),
                 REFUSE.get(name))


BLOCK0_FIELDS = tuple(_f(n, 0, w, p, b, k, c, wr, rd, d, a) for n, w, p, b, k, c, wr, rd, d, a in _B0)
BLOCK3_FIELDS = (
    _f("SECURE_VERSION", 3, 4, 0, 32, "bitcount", "security", 9, 2, "Secure version for anti-rollback"),
    _f("MAC_VERSION", 3, 5, 24, 8, "uint", "MAC", 9, 2, "Version of the MAC field", ("MAC_CUSTOM_VER",)),
)
KEY_FIELDS = (
    _f("BLOCK1", 1, 0, 0, 0, "bytes", "security", 7, 0, "Flash encryption key", ("ENCRYPT_FLASH_KEY",)),
    _f("BLOCK2", 2, 0, 0, 0, "bytes", "security", 8, 1, "Security boot key", ("SECURE_BOOT_KEY",)),
    _f("BLOCK3", 3, 0, 0, 0, "bytes", "security", 9, 2, "Variable Block 3"),
)
CUSTOM_MAC_FIELDS = (
    _f("CUSTOM_MAC_CRC", 3, 0, 0, 8, "uint", "MAC", 9, 2, "CRC8 for custom MAC address", ("MAC_CUSTOM_CRC",)),
    _f("CUSTOM_MAC", 3, 0, 8, 48, "mac", "MAC", 9, 2, "Custom MAC address", ("MAC_CUSTOM",)),
)
ADC_FIELDS = (
    _f("ADC1_TP_LOW", 3, 3, 0, 7, "adc_tp", "calibration", 9, 2,
       f"ADC1 Two Point calibration low point. {ADC_NOTE}"),
    _f("ADC1_TP_HIGH", 3, 3, 7, 9, "adc_tp", "calibration", 9, 2,
       f"ADC1 Two Point calibration high point. {ADC_NOTE}"),
    _f("ADC2_TP_LOW", 3, 3, 16, 7, "adc_tp", "calibration", 9, 2,
       f"ADC2 Two Point calibration low point. {ADC_NOTE}"),
    _f("ADC2_TP_HIGH", 3, 3, 23, 9, "adc_tp", "calibration", 9, 2,
       f"ADC2 Two Point calibration high point. {ADC_NOTE}"),
)
CALCULATED = (
    _f("WAFER_VERSION_MAJOR", 0, None, None, 3, "uint", "identity", None, None,
       "calc WAFER VERSION MAJOR from CHIP_VER_REV1 and CHIP_VER_REV2 and apb_ctl_date (read only)"),
    _f("PKG_VERSION", 0, None, None, 4, "uint", "identity", None, None,
       "calc Chip package = CHIP_PACKAGE_4BIT << 3 + CHIP_PACKAGE (read only)"),
)

LAYOUT = Layout(BLOCKS, BLOCK0_FIELDS + BLOCK3_FIELDS + KEY_FIELDS + CUSTOM_MAC_FIELDS + ADC_FIELDS + CALCULATED)

#: BLOCK0 fields programmed in a final cycle (SECURITY.md 1.5)
POSTPONED = ("WR_DIS", "RD_DIS", "UART_DOWNLOAD_DIS", "ABS_DONE_1", "FLASH_CRYPT_CNT")
