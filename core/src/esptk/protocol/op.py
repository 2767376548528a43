"""Opcodes of the ROM loader and stub protocol (PROTOCOL.md section 2.1)."""

FLASH_BEGIN = 0x02
FLASH_DATA = 0x03
FLASH_END = 0x04
MEM_BEGIN = 0x05
MEM_END = 0x06
MEM_DATA = 0x07
SYNC = 0x08
WRITE_REG = 0x09
READ_REG = 0x0A
SPI_SET_PARAMS = 0x0B
SPI_ATTACH = 0x0D
READ_FLASH_SLOW = 0x0E
CHANGE_BAUDRATE = 0x0F
FLASH_DEFL_BEGIN = 0x10
FLASH_DEFL_DATA = 0x11
FLASH_DEFL_END = 0x12
SPI_FLASH_MD5 = 0x13
GET_SECURITY_INFO = 0x14
ERASE_FLASH = 0xD0
ERASE_REGION = 0xD1
READ_FLASH = 0xD2
RUN_USER_CODE = 0xD3
#: esptk stub extension: protocol version and capabilities (other loaders refuse it)
GET_VERSION = 0xF0
#: esptk stub extension (protocol v2): the MD5 of each 4 KiB sector of a range in one reply
SECTOR_MD5 = 0xE0

NAMES = {v: k for k, v in globals().items() if k.isupper() and isinstance(v, int)}

#: the commands every ROM loader implements
BASIC_ROM = frozenset(
    {FLASH_BEGIN, FLASH_DATA, FLASH_END, MEM_BEGIN, MEM_END, MEM_DATA, SYNC, WRITE_REG, READ_REG}
)


def name(opcode: int) -> str:
    return NAMES.get(opcode, f"0x{opcode:02X}")
