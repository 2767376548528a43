/* Flash work with the UART drained between every poll of the busy flash: erase ahead of the
 * write pointer, page programs, read-back check. */
#ifndef STUB_FLASH_H
#define STUB_FLASH_H
#include <stdint.h>

/* A write region starts: [offset, offset+size) will be erased (as it is reached, or ahead).
 * Returns the outcome of the work still pending from before. */
int flash_region(uint32_t offset, uint32_t size);
/* Idle time: start the next erase of the region if the flash is free. 0 or a status code. */
int flash_erase_ahead(void);
/* Program len bytes (word aligned buffer, len a multiple of 4) at addr, erasing first as needed
 * (a sector or block that already reads as erased is not erased again; 64-byte pieces that are
 * all 0xFF are not programmed, the erased flash holds them already).
 * The last piece may still be programming on return: src must stay valid until flash_settle().
 * 0 or a status code (of this or of earlier pieces, each read back once done). */
int flash_program(uint32_t addr, const uint32_t *src, uint32_t len);
/* The same through the flash encryption engine: addr and len multiples of 32, no read-back (the
 * flash then holds ciphertext). */
int flash_program_encrypted(uint32_t addr, const uint32_t *src, uint32_t len);
/* Erase [addr, addr+len) now (sector aligned): 64 KiB blocks where they fit. */
int flash_erase(uint32_t addr, uint32_t len);
/* Wait for the operation in progress, draining the UART, and read back the last program. */
int flash_settle(void);
#endif
