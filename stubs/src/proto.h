/* Opcodes, status codes and limits of the loader protocol as the stub speaks it. */
#ifndef STUB_PROTO_H
#define STUB_PROTO_H

#define STUB_PROTOCOL_VERSION 2

#define OP_FLASH_BEGIN 0x02
#define OP_FLASH_DATA 0x03
#define OP_FLASH_END 0x04
#define OP_MEM_BEGIN 0x05
#define OP_MEM_END 0x06
#define OP_MEM_DATA 0x07
#define OP_SYNC 0x08
#define OP_WRITE_REG 0x09
#define OP_READ_REG 0x0A
#define OP_SPI_SET_PARAMS 0x0B
#define OP_SPI_ATTACH 0x0D
#define OP_CHANGE_BAUDRATE 0x0F
#define OP_FLASH_DEFL_BEGIN 0x10
#define OP_FLASH_DEFL_DATA 0x11
#define OP_FLASH_DEFL_END 0x12
#define OP_SPI_FLASH_MD5 0x13
#define OP_ERASE_FLASH 0xD0
#define OP_ERASE_REGION 0xD1
#define OP_READ_FLASH 0xD2
#define OP_RUN_USER_CODE 0xD3
#define OP_SECTOR_MD5 0xE0
#define OP_GET_VERSION 0xF0

#define ST_OK 0x00
#define ST_BAD_DATA_LEN 0xC0
#define ST_BAD_DATA_CHECKSUM 0xC1
#define ST_BAD_BLOCKSIZE 0xC2
#define ST_INVALID_COMMAND 0xC3
#define ST_FAILED_SPI_OP 0xC4
#define ST_FAILED_SPI_UNLOCK 0xC5
#define ST_NOT_IN_FLASH_MODE 0xC6
#define ST_INFLATE_ERROR 0xC7
#define ST_NOT_ENOUGH_DATA 0xC8
#define ST_TOO_MUCH_DATA 0xC9
#define ST_CMD_NOT_IMPLEMENTED 0xFF
#define ST_ERASE_BAD_ADDR 0x32
#define ST_ERASE_BAD_LEN 0x33
#define ST_ERASE_SECTOR_FAILED 0x35
#define ST_ERASE_BLOCK_FAILED 0x36
#define ST_MD5_READ_FAILED 0x63

#define MAX_WRITE_BLOCK 0x4000u
#define MAX_PAYLOAD (MAX_WRITE_BLOCK + 16u)
/* Data blocks a host may send before their replies: one is worked on while one arrives (two
 * receive buffers, rx.c). */
#define MAX_IN_FLIGHT 1u
/* READ_FLASH packets sent before their acks: at most this many acks (10 bytes each at most on
 * the wire) can wait in the 128-byte RX FIFO while a packet is being sent. */
#define READ_WINDOW 8u
#define SECTOR_MD5_MAX 1024u

/* GET_VERSION capability bits. */
#define CAP_DEFLATE (1u << 0)
#define CAP_READ_FLASH (1u << 1)
#define CAP_ERASE (1u << 2)
#define CAP_MD5 (1u << 3)
#define CAP_RUN_USER_CODE (1u << 4)
#define CAP_BEGIN_20 (1u << 5)
#define CAP_IMMEDIATE_ERRORS (1u << 6)
#define CAP_STREAMING (1u << 7)
#define CAP_SECTOR_MD5 (1u << 8)
#define CAP_READ_WINDOW (1u << 9)
#define CAP_ENCRYPTED_WRITE (1u << 10)
#endif
