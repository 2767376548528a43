/* HAL for QEMU "-M sim": the UART is semihosting stdin/stdout, the flash a fake NOR chip in sysram
 * (erase sets 0xFF, programming ANDs bits, unaligned access is refused). Test builds only. */
#include "hal.h"
#include "semihost.h"

/* Clear of the ESP8266 peripheral addresses (0x600000xx..) a host may poke with READ/WRITE_REG. */
#define FAKE_FLASH ((volatile uint32_t *)0x64000000)
#define FAKE_FLASH_SIZE (4u << 20)
/* Exit codes that tell the host test how the stub left. */
#define EXIT_REBOOT 0x42
#define EXIT_RUN_USER_CODE 0x43

#ifdef SIM_ESP32
const uint32_t hal_chip_id = 0x32;
#define CHIP_MAGIC 0x00F01D83u
#else
const uint32_t hal_chip_id = 0x8266;
#define CHIP_MAGIC 0xFFF0C101u
#endif

static uint8_t rx_buf[4096];
static uint32_t rx_len, rx_pos;
static uint8_t tx_buf[4096];
static uint32_t tx_len;
/* Readable with READ_REG so tests can see what CHANGE_BAUDRATE and SPI_ATTACH did. */
volatile uint32_t sim_baud = 115200;
volatile uint32_t sim_attach = 0xFFFFFFFFu;

/* Where a host reads the chip's detection value (esptk ChipSpec.magic_reg). */
#define MAGIC_REG (*(volatile uint32_t *)0x40001000)

void hal_init(void)
{
    MAGIC_REG = CHIP_MAGIC;
    for (uint32_t i = 0; i < FAKE_FLASH_SIZE / 4; i++)
        FAKE_FLASH[i] = 0xFFFFFFFFu;
}

uint8_t hal_uart_getc(void)
{
    if (rx_pos == rx_len) {
        int32_t n = sim_read(0, rx_buf, sizeof rx_buf);
        if (n <= 0)
            sim_exit(0); /* the host closed the line */
        rx_len = (uint32_t)n;
        rx_pos = 0;
    }
    return rx_buf[rx_pos++];
}

void hal_uart_push(void)
{
    if (tx_len)
        sim_write_all(1, tx_buf, tx_len);
    tx_len = 0;
}

void hal_uart_write(const uint8_t *p, uint32_t n)
{
    while (n--) {
        if (tx_len == sizeof tx_buf)
            hal_uart_push();
        tx_buf[tx_len++] = *p++;
    }
}

void hal_uart_drain(void)
{
    hal_uart_push();
}

void hal_uart_set_baud(uint32_t new_baud, uint32_t old_baud)
{
    (void)old_baud;
    sim_baud = new_baud;
}

static int flash_range_ok(uint32_t addr, uint32_t len)
{
    return !(addr & 3) && !(len & 3) && addr <= FAKE_FLASH_SIZE && len <= FAKE_FLASH_SIZE - addr;
}

int hal_flash_read(uint32_t addr, uint32_t *dst, uint32_t len)
{
    if (!flash_range_ok(addr, len) || ((uintptr_t)dst & 3))
        return 1;
    for (uint32_t i = 0; i < len / 4; i++)
        dst[i] = FAKE_FLASH[addr / 4 + i];
    return 0;
}

int hal_flash_write(uint32_t addr, const uint32_t *src, uint32_t len)
{
    if (!flash_range_ok(addr, len) || ((uintptr_t)src & 3))
        return 1;
    for (uint32_t i = 0; i < len / 4; i++)
        FAKE_FLASH[addr / 4 + i] &= src[i];
    return 0;
}

static int erase(uint32_t addr, uint32_t len)
{
    if (!flash_range_ok(addr, len))
        return 1;
    for (uint32_t i = 0; i < len / 4; i++)
        FAKE_FLASH[addr / 4 + i] = 0xFFFFFFFFu;
    return 0;
}

int hal_flash_erase_sector(uint32_t sector)
{
    return erase(sector * FLASH_SECTOR, FLASH_SECTOR);
}

int hal_flash_erase_block(uint32_t block)
{
    return erase(block * FLASH_BLOCK, FLASH_BLOCK);
}

int hal_flash_erase_chip(void)
{
    return erase(0, FAKE_FLASH_SIZE);
}

int hal_flash_unlock(void)
{
    return 0;
}

int hal_flash_attach(uint32_t config)
{
    sim_attach = config;
    return 0;
}

int hal_flash_set_params(const uint32_t *params)
{
    (void)params;
    return 0;
}

void hal_delay_us(uint32_t us)
{
    (void)us;
}

uint32_t hal_reg_read(uint32_t addr)
{
    return *(volatile uint32_t *)addr;
}

void hal_reg_write(uint32_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}

void hal_jump(uint32_t entry)
{
    ((void (*)(void))entry)();
    sim_exit(0x44);
}

void hal_reboot(void)
{
    sim_exit(EXIT_REBOOT);
}

void hal_run_user_code(void)
{
    sim_exit(EXIT_RUN_USER_CODE);
}
