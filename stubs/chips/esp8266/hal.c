/* ESP8266 HAL: UART0 registers, ROM SPI flash routines (call0 ABI, addresses from the SDK's ROM
 * address table) for read, chip erase, unlock and attach; programs and sector/block erases are
 * started through SPI0's registers (src/spi_flash.c) so that the UART is drained while they run.
 * The baud divider is in uart_baud.c (shared with the stage-1 loader). */
#include "hal.h"
#include "util.h"

typedef int (*rom_read_fn)(uint32_t addr, uint32_t *dst, uint32_t len);
typedef int (*rom_void_fn)(void);
typedef int (*rom_param_fn)(uint32_t id, uint32_t size, uint32_t block, uint32_t sector, uint32_t page,
                            uint32_t mask);

#define SPIRead ((rom_read_fn)0x40004b1c)
#define SPIEraseChip ((rom_void_fn)0x40004984)
#define SPIUnlock ((rom_void_fn)0x40004878)
#define SPIParamCfg ((rom_param_fn)0x40004c2c)
#define spi_flash_attach ((rom_void_fn)0x40004644)
/* ROM reset vector: restarts the boot ROM, which boots the flash app when GPIO0 is high. */
#define ROM_RESET ((rom_void_fn)0x40000080)

const uint32_t hal_chip_id = 0x8266;
const uint32_t hal_can_encrypt = 0;

int hal_flash_write_encrypted(uint32_t addr, uint32_t *src32)
{
    (void)addr;
    (void)src32;
    return 1; /* no flash encryption on the ESP8266 */
}

void hal_init(void)
{
    spi_flash_attach();
    SPIParamCfg(0, 16u << 20, FLASH_BLOCK, FLASH_SECTOR, 0x100, 0xFFFF);
}

int hal_flash_read(uint32_t addr, uint32_t *dst, uint32_t len)
{
    return SPIRead(addr, dst, len);
}

int hal_flash_erase_chip(void)
{
    return SPIEraseChip();
}

int hal_flash_unlock(void)
{
    return SPIUnlock();
}

int hal_flash_attach(uint32_t config)
{
    (void)config; /* the ESP8266 has one flash interface */
    spi_flash_attach();
    return 0;
}

int hal_flash_set_params(const uint32_t *p)
{
    return SPIParamCfg(p[0], p[1], p[2], p[3], p[4], p[5]);
}

void hal_jump(uint32_t entry)
{
    ((void (*)(void))entry)();
    for (;;)
        ;
}

void hal_reboot(void)
{
    ROM_RESET();
}

void hal_run_user_code(void)
{
    ROM_RESET();
}
