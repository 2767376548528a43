/* Hardware abstraction used by the portable stub core. One implementation per chip, one for QEMU. */
#ifndef STUB_HAL_H
#define STUB_HAL_H
#include <stdint.h>

/* Flash sizes the core works in. */
#define FLASH_SECTOR 0x1000u
#define FLASH_BLOCK 0x10000u
#define FLASH_PAGE 0x100u
/* Largest page program one hal_flash_start_program call takes (the SPI controller's 16 data
 * words); a chunk never crosses a 64-byte boundary, so never a page boundary. */
#define FLASH_PROGRAM_CHUNK 64u

void hal_init(void);
/* Receive side, never waiting: bytes ready in the RX FIFO, and one of them. */
uint32_t hal_uart_rx_ready(void);
uint8_t hal_uart_rx_byte(void);
/* Nothing to do until a byte arrives (the QEMU HAL sleeps; on silicon a no-op). */
void hal_uart_idle(void);
/* Transmit; while waiting for room in the TX FIFO it calls rx_poll() (provided by the core). */
void hal_uart_write(const uint8_t *p, uint32_t n);
/* A frame is complete: make buffered bytes go out now. */
void hal_uart_push(void);
/* Wait until every byte written has left the transmitter. */
void hal_uart_drain(void);
void hal_uart_set_baud(uint32_t new_baud, uint32_t old_baud);
/* The core's receiver: moves bytes from the RX FIFO into its frame buffers. */
void rx_poll(void);

/* Flash: return 0 on success. Buffers are word aligned, lengths multiples of 4. Reads and the
 * chip erase wait; erase and page program only start the operation: hal_flash_busy() is
 * non-zero until it is done (the core drains the UART while it polls). */
int hal_flash_read(uint32_t addr, uint32_t *dst, uint32_t len);
int hal_flash_start_program(uint32_t addr, const uint32_t *src, uint32_t len);
/* size is FLASH_SECTOR or FLASH_BLOCK, addr a multiple of it. */
int hal_flash_start_erase(uint32_t addr, uint32_t size);
int hal_flash_busy(void);
int hal_flash_erase_chip(void);
/* 32 bytes at a 32-byte aligned addr through the flash encryption engine; waits. The ROM routine
 * encrypts the source buffer in place. Only where hal_can_encrypt is set. */
int hal_flash_write_encrypted(uint32_t addr, uint32_t *src32);
extern const uint32_t hal_can_encrypt;
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
