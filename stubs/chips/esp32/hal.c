/* ESP32 HAL: UART0 registers, ROM SPI flash routines (windowed ABI, called through win_call),
 * and SPI1 register commands (src/spi_flash.c, built with SPI_OWN_CHIP_ERASE: no ROM address for
 * chip erase was verified and the ROM's unlock is faulty). */
#include "hal.h"
#include "util.h"

#define UART0_CLKDIV (*(volatile uint32_t *)0x3FF40014)

/* RTC_CNTL_OPTIONS0: software system reset bit. */
#define RTC_OPTIONS0 (*(volatile uint32_t *)0x3FF48000)
#define SW_SYS_RST (1u << 31)

/* ESP32 ROM routines (windowed ABI). */
#define ROM_READ 0x40062ed8
#define ROM_CONFIG_PARAM 0x40063238
#define ROM_ATTACH 0x40062a6c
/* esp_rom_spiflash_write_encrypted (ESP-IDF components/esp_rom/esp32/ld/esp32.rom.spiflash.ld) */
#define ROM_WRITE_ENCRYPTED 0x40062e78

uint32_t win_call(uint32_t fn, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f);

const uint32_t hal_chip_id = 0x32;
const uint32_t hal_can_encrypt = 1;

int hal_flash_write_encrypted(uint32_t addr, uint32_t *src32)
{
    return (int)win_call(ROM_WRITE_ENCRYPTED, addr, (uint32_t)src32, 32, 0, 0, 0);
}

void hal_init(void)
{
    win_call(ROM_ATTACH, 0, 0, 0, 0, 0, 0);
    win_call(ROM_CONFIG_PARAM, 0, 16u << 20, FLASH_BLOCK, FLASH_SECTOR, 0x100, 0xFFFF);
}

void hal_uart_set_baud(uint32_t new_baud, uint32_t old_baud)
{
    if (!new_baud || !old_baud)
        return;
    /* Divider in 1/16 steps: integer part in bits 0..19, fraction in bits 20..23. */
    uint32_t reg = UART0_CLKDIV;
    uint32_t div16 = ((reg & 0xFFFFF) << 4) | ((reg >> 20) & 0xF);
    div16 = udiv32(div16 * old_baud, new_baud, 0);
    UART0_CLKDIV = (div16 >> 4) | ((div16 & 0xF) << 20);
    hal_delay_us(1000);
}

int hal_flash_read(uint32_t addr, uint32_t *dst, uint32_t len)
{
    return (int)win_call(ROM_READ, addr, (uint32_t)dst, len, 0, 0, 0);
}

int hal_flash_attach(uint32_t config)
{
    win_call(ROM_ATTACH, config, 0, 0, 0, 0, 0);
    return 0;
}

int hal_flash_set_params(const uint32_t *p)
{
    return (int)win_call(ROM_CONFIG_PARAM, p[0], p[1], p[2], p[3], p[4], p[5]);
}

/* Code loaded with MEM_* is entered like the ROM enters us: as a windowed call. */
void hal_jump(uint32_t entry)
{
    win_call(entry, 0, 0, 0, 0, 0, 0);
    for (;;)
        ;
}

void hal_reboot(void)
{
    RTC_OPTIONS0 |= SW_SYS_RST;
    for (;;)
        ;
}

void hal_run_user_code(void)
{
    hal_reboot();
}
