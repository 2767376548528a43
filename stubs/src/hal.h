/* Hardware abstraction used by the portable stub core. One implementation per chip, one for QEMU. */
#ifndef STUB_HAL_H
#define STUB_HAL_H
#include <stdint.h>

/* Flash sizes the core works in. */
#define FLASH_SECTOR 0x1000u
#define FLASH_BLOCK 0x10000u

void hal_init(void);
/* Next received byte; waits for it. */
uint8_t hal_uart_getc(void);
void hal_uart_write(const uint8_t *p, uint32_t n);
/* A frame is complete: make buffered bytes go out now. */
void hal_uart_push(void);
/* Wait until every byte written has left the transmitter. */
void hal_uart_drain(void);
void hal_uart_set_baud(uint32_t new_baud, uint32_t old_baud);

/* Flash: return 0 on success. Buffers are word aligned, lengths multiples of 4. */
int hal_flash_read(uint32_t addr, uint32_t *dst, uint32_t len);
int hal_flash_write(uint32_t addr, const uint32_t *src, uint32_t len);
int hal_flash_erase_sector(uint32_t sector);
int hal_flash_erase_block(uint32_t block);
int hal_flash_erase_chip(void);
int hal_flash_unlock(void);
int hal_flash_attach(uint32_t config);
/* SPI_SET_PARAMS words: id, total, block, sector, page, status mask. Returns the ROM's status. */
int hal_flash_set_params(const uint32_t *params);

void hal_delay_us(uint32_t us);
uint32_t hal_reg_read(uint32_t addr);
void hal_reg_write(uint32_t addr, uint32_t value);
/* Leave the stub: run code at entry, reboot, or start the application in flash. Never return. */
void hal_jump(uint32_t entry);
void hal_reboot(void);
void hal_run_user_code(void);

/* Chip identity reported by GET_VERSION. */
extern const uint32_t hal_chip_id;
#endif
