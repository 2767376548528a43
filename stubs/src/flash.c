/* Flash work that never keeps the UART waiting: every operation is started, then its busy state
 * is polled with rx_poll() in between (the RX FIFO holds 128 bytes: 1.4 ms at 921600 baud, and
 * one 64-byte program, a sector erase or a block erase is only started here, never waited for
 * without draining). A page program is left running when flash_program returns, so the CPU
 * inflates the next bytes while the flash programs; it is read back before the next command. */
#include "flash.h"
#include "hal.h"
#include "proto.h"

static uint32_t erase_next, erase_end;
/* The program started last and not yet read back (its source must stay valid until then). */
static struct {
    uint32_t addr;
    const uint32_t *src;
    uint32_t len;
} pending;

int flash_settle(void)
{
    while (hal_flash_busy())
        rx_poll();
    uint32_t n = pending.len;
    pending.len = 0;
    if (!n)
        return ST_OK;
    /* Read back: a failed program (worn, protected or stuck bits) shows here. */
    uint32_t back[FLASH_PROGRAM_CHUNK / 4];
    if (hal_flash_read(pending.addr, back, n))
        return ST_FAILED_SPI_OP;
    for (uint32_t i = 0; i < n / 4; i++)
        if (back[i] != pending.src[i])
            return ST_FAILED_SPI_OP;
    return ST_OK;
}

int flash_region(uint32_t offset, uint32_t size)
{
    int r = flash_settle();
    erase_next = offset & ~(FLASH_SECTOR - 1);
    erase_end = (offset + size + FLASH_SECTOR - 1) & ~(FLASH_SECTOR - 1);
    return r;
}

static int all_ones(const uint32_t *w, uint32_t len)
{
    for (uint32_t i = 0; i < len / 4; i++)
        if (w[i] != 0xFFFFFFFFu)
            return 0;
    return 1;
}

/* Whether [a, a+size) already reads as erased. A factory-fresh or erased chip then needs no erase
 * at all (a 64 KiB block erase takes 150 ms-2 s, reading it a few tens of ms); on flash that holds
 * data the first word that is not 0xFF ends the check, so it costs one short read. A read failure
 * counts as "not blank": the erase then happens as before. The UART is drained between reads. */
static int is_blank(uint32_t a, uint32_t size)
{
    uint32_t buf[FLASH_PROGRAM_CHUNK / 4];
    for (uint32_t off = 0; off < size; off += FLASH_PROGRAM_CHUNK) {
        if (hal_flash_read(a + off, buf, FLASH_PROGRAM_CHUNK) || !all_ones(buf, FLASH_PROGRAM_CHUNK))
            return 0;
        rx_poll();
    }
    return 1;
}

/* Start erasing the next sector, or the next 64 KiB block when it is aligned and wholly wanted;
 * nothing is erased where the flash already reads as erased. */
static int erase_start(void)
{
    uint32_t a = erase_next;
    uint32_t size = !(a & (FLASH_BLOCK - 1)) && erase_end - a >= FLASH_BLOCK ? FLASH_BLOCK : FLASH_SECTOR;
    int r = flash_settle();
    if (r)
        return r;
    if (!is_blank(a, size) && hal_flash_start_erase(a, size))
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

int flash_program(uint32_t addr, const uint32_t *src, uint32_t len)
{
    int r = erase_for(addr, len);
    for (uint32_t done = 0; !r && done < len;) {
        uint32_t n = FLASH_PROGRAM_CHUNK - ((addr + done) & (FLASH_PROGRAM_CHUNK - 1));
        if (n > len - done)
            n = len - done;
        if (all_ones(src + done / 4, n)) { /* erased flash already holds it: nothing to program */
            done += n;
            continue;
        }
        r = flash_settle();
        if (!r && hal_flash_start_program(addr + done, src + done / 4, n))
            r = ST_FAILED_SPI_OP;
        pending.addr = addr + done;
        pending.src = src + done / 4;
        pending.len = r ? 0 : n;
        done += n;
    }
    return r;
}

int flash_program_encrypted(uint32_t addr, const uint32_t *src, uint32_t len)
{
    int r = erase_for(addr, len);
    for (uint32_t done = 0; !r && done < len; done += 32) {
        uint32_t chunk[8]; /* the ROM encrypts its source in place: never hand it ours */
        for (int i = 0; i < 8; i++)
            chunk[i] = src[done / 4 + i];
        r = flash_settle();
        if (!r && hal_flash_write_encrypted(addr + done, chunk))
            r = ST_FAILED_SPI_OP;
        rx_poll();
    }
    return r;
}

int flash_erase(uint32_t addr, uint32_t len)
{
    int r = flash_region(addr, len);
    while (!r && erase_next < erase_end)
        r = erase_start();
    int s = flash_settle();
    return r ? r : s;
}
