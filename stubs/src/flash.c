/* Flash work that never keeps the UART waiting: every operation is started, then its busy state
 * is polled with rx_poll() in between (the RX FIFO holds 128 bytes: 1.4 ms at 921600 baud, and
 * one 64-byte program, a sector erase or a block erase is only started here, never waited for
 * without draining). */
#include "flash.h"
#include "hal.h"
#include "proto.h"

static uint32_t erase_next, erase_end;

void flash_wait(void)
{
    while (hal_flash_busy())
        rx_poll();
}

void flash_region(uint32_t offset, uint32_t size)
{
    flash_wait();
    erase_next = offset & ~(FLASH_SECTOR - 1);
    erase_end = (offset + size + FLASH_SECTOR - 1) & ~(FLASH_SECTOR - 1);
}

/* Start erasing the next sector, or the next 64 KiB block when it is aligned and wholly wanted. */
static int erase_start(void)
{
    uint32_t a = erase_next;
    uint32_t size = !(a & (FLASH_BLOCK - 1)) && erase_end - a >= FLASH_BLOCK ? FLASH_BLOCK : FLASH_SECTOR;
    flash_wait();
    if (hal_flash_start_erase(a, size))
        return ST_FAILED_SPI_OP;
    erase_next = a + size;
    return ST_OK;
}

int flash_erase_ahead(void)
{
    if (erase_next >= erase_end || hal_flash_busy())
        return ST_OK;
    return erase_start();
}

static int erase_for(uint32_t addr, uint32_t len)
{
    while (erase_next < addr + len && erase_next < erase_end) {
        int r = erase_start();
        if (r)
            return r;
    }
    return ST_OK;
}

int flash_program_encrypted(uint32_t addr, const uint32_t *src, uint32_t len)
{
    int r = erase_for(addr, len);
    if (r)
        return r;
    for (uint32_t done = 0; done < len; done += 32) {
        uint32_t chunk[8]; /* the ROM encrypts its source in place: never hand it ours */
        for (int i = 0; i < 8; i++)
            chunk[i] = src[done / 4 + i];
        flash_wait();
        if (hal_flash_write_encrypted(addr + done, chunk))
            return ST_FAILED_SPI_OP;
        rx_poll();
    }
    return ST_OK;
}

int flash_program(uint32_t addr, const uint32_t *src, uint32_t len)
{
    int r = erase_for(addr, len);
    if (r)
        return r;
    for (uint32_t done = 0; done < len;) {
        uint32_t n = FLASH_PROGRAM_CHUNK - ((addr + done) & (FLASH_PROGRAM_CHUNK - 1));
        if (n > len - done)
            n = len - done;
        flash_wait();
        if (hal_flash_start_program(addr + done, src + done / 4, n))
            return ST_FAILED_SPI_OP;
        done += n;
    }
    /* Read back: a failed program (worn, protected or stuck bits) shows here. */
    for (uint32_t done = 0; done < len;) {
        uint32_t back[FLASH_PROGRAM_CHUNK / 4];
        uint32_t n = len - done < FLASH_PROGRAM_CHUNK ? len - done : FLASH_PROGRAM_CHUNK;
        flash_wait();
        if (hal_flash_read(addr + done, back, n))
            return ST_FAILED_SPI_OP;
        for (uint32_t i = 0; i < n / 4; i++)
            if (back[i] != src[done / 4 + i])
                return ST_FAILED_SPI_OP;
        done += n;
    }
    return ST_OK;
}

int flash_erase(uint32_t addr, uint32_t len)
{
    flash_region(addr, len);
    while (erase_next < erase_end) {
        int r = erase_start();
        if (r)
            return r;
    }
    flash_wait();
    return ST_OK;
}
