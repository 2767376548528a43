/* Started (not waited for) page programs and erases through the SPI flash controller's command
 * register: the same register layout on both chips but for the base and the data buffer offset
 * (SPI_BASE, SPI_W0_OFFSET, set per chip by build.py). The flash's busy bit (WIP) is read with
 * RDSR. */
#include "hal.h"

#define SPI_REG(off) (*(volatile uint32_t *)(SPI_BASE + (off)))
#define SPI_CMD SPI_REG(0x00)
#define SPI_ADDR SPI_REG(0x04)
#define SPI_RD_STATUS SPI_REG(0x10)
#define SPI_W(i) SPI_REG(SPI_W0_OFFSET + 4 * (i))
#define CMD_WREN (1u << 30)
#define CMD_RDSR (1u << 27)
#define CMD_WRSR (1u << 26)
#define CMD_PP (1u << 25)
#define CMD_SE (1u << 24)
#define CMD_BE (1u << 23)
#define CMD_CE (1u << 22)
#define STATUS_WIP 1u

void spi_command(uint32_t bits)
{
    SPI_CMD = bits;
    while (SPI_CMD)
        ;
}

int hal_flash_busy(void)
{
    SPI_RD_STATUS = 0;
    spi_command(CMD_RDSR);
    return SPI_RD_STATUS & STATUS_WIP;
}

int hal_flash_start_program(uint32_t addr, const uint32_t *src, uint32_t len)
{
    spi_command(CMD_WREN);
    for (uint32_t i = 0; i < (len + 3) / 4; i++)
        SPI_W(i) = src[i];
    /* Page program: the byte count goes in the address register's top byte. */
    SPI_ADDR = (addr & 0xFFFFFF) | (len << 24);
    SPI_CMD = CMD_PP;
    while (SPI_CMD)
        ;
    return 0;
}

int hal_flash_start_erase(uint32_t addr, uint32_t size)
{
    spi_command(CMD_WREN);
    SPI_ADDR = addr & 0xFFFFFF;
    SPI_CMD = size == FLASH_BLOCK ? CMD_BE : CMD_SE;
    while (SPI_CMD)
        ;
    return 0;
}

#ifdef SPI_OWN_CHIP_ERASE
static void wait_idle(void)
{
    while (hal_flash_busy())
        ;
}

int hal_flash_erase_chip(void)
{
    wait_idle();
    spi_command(CMD_WREN);
    spi_command(CMD_CE);
    wait_idle();
    return 0;
}

/* Clear the status register (block protect bits). */
int hal_flash_unlock(void)
{
    wait_idle();
    spi_command(CMD_WREN);
    SPI_RD_STATUS = 0;
    spi_command(CMD_WRSR);
    wait_idle();
    return 0;
}
#endif
