/* The stub's command loop. Streaming: a data block is acknowledged once it is received and
 * checked; it is inflated and programmed afterwards while the next block arrives in the other
 * receive buffer (rx.c), the UART being drained between every flash busy poll (flash.c). A
 * failure found then is sticky: it is the status of every later data, end and MD5 reply until
 * the next BEGIN. */
#include "flash.h"
#include "hal.h"
#include "inflate.h"
#include "md5.h"
#include "proto.h"
#include "rx.h"
#include "slip.h"
#include "util.h"

#define HDR RX_HDR
#define DEFAULT_FLASH_SIZE (16u << 20)

/* The request being handled (payload data of the _DATA commands starts at offset 8 + 16 = 24,
 * so it is word aligned). */
static uint8_t *RX;
static uint32_t window_words[(INF_WINDOW + 4) / 4];
/* Flash reads (READ_FLASH, the MD5 commands) use the inflate window: they end a deflate transfer. */
#define io_words window_words
#define IO_MAX MAX_WRITE_BLOCK
static inflater inf;

enum { MODE_IDLE, MODE_FLASH, MODE_DEFLATE, MODE_MEM };

static struct {
    uint32_t mode;
    uint32_t next_write;    /* flash address or RAM address of the next byte */
    uint32_t remaining;     /* bytes still expected (uncompressed for deflate) */
    uint32_t seq;           /* sequence number expected next */
    uint32_t flash_size;
    int32_t write_error;    /* status of a failed flash write inside an inflate flush */
    int32_t sticky;         /* deferred error: reported until the next BEGIN */
    uint32_t encrypted;     /* this transfer goes through the flash encryption engine */
} st;

static void reply(uint8_t op, uint32_t value, const uint8_t *data, uint32_t len, uint8_t status, uint8_t extra)
{
    uint8_t hdr[HDR];
    uint8_t tail[2];
    hdr[0] = 1;
    hdr[1] = op;
    hdr[2] = (uint8_t)(len + 2);
    hdr[3] = (uint8_t)((len + 2) >> 8);
    put_le32(hdr + 4, value);
    tail[0] = status;
    tail[1] = extra;
    slip_start();
    slip_put(hdr, HDR);
    if (len)
        slip_put(data, len);
    slip_put(tail, 2);
    slip_end();
}

/* Let the flash work in flight finish; a failure becomes the transfer's deferred error. */
static void settle(void)
{
    int r = flash_settle();
    if (r && !st.sticky)
        st.sticky = r;
}

/* Write len bytes (word aligned buffer with 4 spare bytes) at the write cursor. */
static int flash_out(uint8_t *p, uint32_t len)
{
    if (len > st.remaining)
        return ST_TOO_MUCH_DATA;
    if (st.encrypted && (len & 31))
        return ST_BAD_DATA_LEN;
    uint32_t padded = (len + 3) & ~3u;
    for (uint32_t i = len; i < padded; i++)
        p[i] = 0xFF;
    int r = st.encrypted ? flash_program_encrypted(st.next_write, (const uint32_t *)p, padded)
                         : flash_program(st.next_write, (const uint32_t *)p, padded);
    if (r)
        return r;
    st.next_write += len;
    st.remaining -= len;
    return ST_OK;
}

static int inflate_flush(void *ctx, const uint8_t *p, uint32_t len)
{
    (void)ctx;
    rx_poll(); /* between pieces of inflate work, whether or not the flash is busy */
    st.write_error = flash_out((uint8_t *)p, len);
    return st.write_error;
}

static int begin(const uint8_t *p, uint32_t plen, int deflate)
{
    if (plen != 16 && plen != 20)
        return ST_BAD_DATA_LEN;
    uint32_t size = get_le32(p);
    uint32_t block_size = get_le32(p + 8);
    uint32_t offset = get_le32(p + 12);
    if (block_size > MAX_WRITE_BLOCK)
        return ST_BAD_BLOCKSIZE;
    uint32_t encrypted = plen == 20 && get_le32(p + 16);
    if (encrypted && !hal_can_encrypt)
        return ST_CMD_NOT_IMPLEMENTED;
    if (encrypted && ((offset | size | block_size) & 31))
        return ST_BAD_DATA_LEN; /* the engine works in 32-byte units */
    if (offset > st.flash_size || size > st.flash_size - offset)
        return ST_TOO_MUCH_DATA;
    st.mode = MODE_IDLE;
    settle();
    if (hal_flash_unlock())
        return ST_FAILED_SPI_UNLOCK;
    st.next_write = offset;
    st.remaining = size;
    flash_region(offset, size);
    st.seq = 0;
    st.write_error = ST_OK;
    st.sticky = ST_OK;
    st.encrypted = encrypted;
    if (deflate) {
        inf_init(&inf, (uint8_t *)window_words, inflate_flush, 0);
        inf.poll = rx_poll;
        st.mode = MODE_DEFLATE;
    } else {
        st.mode = MODE_FLASH;
    }
    return ST_OK;
}

/* Common checks of FLASH_DATA / FLASH_DEFL_DATA / MEM_DATA. Returns the data length or <0. */
static int32_t data_checks(uint32_t mode, const uint8_t *p, uint32_t plen, uint32_t chk, uint8_t *status)
{
    if (st.mode != mode) {
        *status = ST_NOT_IN_FLASH_MODE;
        return -1;
    }
    if (plen < 16 || get_le32(p) != plen - 16) {
        *status = ST_BAD_DATA_LEN;
        return -1;
    }
    if (data_checksum(p + 16, plen - 16) != chk) {
        *status = ST_BAD_DATA_CHECKSUM;
        return -1;
    }
    uint32_t seq = get_le32(p + 4);
    if (st.seq && seq == st.seq - 1) {
        *status = ST_OK; /* a repeat of the block just done (its reply was lost) */
        return -1;
    }
    if (seq != st.seq) {
        *status = ST_BAD_DATA_LEN;
        return -1;
    }
    st.seq++;
    return (int32_t)(plen - 16);
}

static int flash_data(uint8_t *data, uint32_t len)
{
    if (len > st.remaining)
        len = st.remaining; /* padding of the last block is dropped */
    if (!len)
        return ST_OK;
    return flash_out(data, len);
}

static int defl_data(const uint8_t *data, uint32_t len)
{
    int32_t r = inf_feed(&inf, data, len);
    if (r == INF_ERR_FLUSH)
        return st.write_error;
    if (r < 0)
        return ST_INFLATE_ERROR;
    return ST_OK;
}

static int finish(uint32_t mode, const uint8_t *p, uint32_t plen, int *reboot)
{
    settle();
    if (plen != 4)
        return ST_BAD_DATA_LEN;
    if (st.sticky) {
        st.mode = MODE_IDLE;
        return st.sticky;
    }
    if (st.mode != mode)
        return ST_NOT_IN_FLASH_MODE;
    if (mode == MODE_DEFLATE && inf_feed(&inf, 0, 0) != INF_DONE)
        return ST_NOT_ENOUGH_DATA;
    if (st.remaining)
        return ST_NOT_ENOUGH_DATA;
    st.mode = MODE_IDLE;
    *reboot = get_le32(p) == 0;
    return ST_OK;
}

static int erase_region(uint32_t addr, uint32_t len)
{
    if (addr & (FLASH_SECTOR - 1))
        return ST_ERASE_BAD_ADDR;
    if (len & (FLASH_SECTOR - 1))
        return ST_ERASE_BAD_LEN;
    if (addr > st.flash_size || len > st.flash_size - addr)
        return ST_ERASE_BAD_LEN;
    st.mode = MODE_IDLE; /* the erase cursor is shared with a write transfer */
    settle();
    if (hal_flash_unlock())
        return ST_FAILED_SPI_UNLOCK;
    return flash_erase(addr, len) ? ST_ERASE_SECTOR_FAILED : ST_OK;
}

/* Flash reads borrow the inflate window: a deflate transfer cannot go on after one. */
static void io_claim(void)
{
    if (st.mode == MODE_DEFLATE)
        st.mode = MODE_IDLE;
    settle();
}

/* Read flash [addr, addr+len) into io_words a chunk at a time, hashing it. */
static int md5_region(uint32_t addr, uint32_t len, uint8_t digest[16])
{
    md5_ctx c;
    md5_init(&c);
    io_claim();
    while (len) {
        uint32_t n = len < IO_MAX ? len : IO_MAX;
        if (hal_flash_read(addr, io_words, (n + 3) & ~3u))
            return ST_MD5_READ_FAILED;
        md5_update(&c, (const uint8_t *)io_words, n);
        addr += n;
        len -= n;
    }
    md5_final(&c, digest);
    return ST_OK;
}

/* SECTOR_MD5: one raw MD5 per 4 KiB sector, streamed into the reply; a read failure gives zero
 * digests for the rest and status 0x63. */
static void sector_md5(uint32_t addr, uint32_t count)
{
    uint8_t hdr[HDR];
    uint8_t tail[2] = {ST_OK, 0};
    uint32_t len = count * 16;
    hdr[0] = 1;
    hdr[1] = OP_SECTOR_MD5;
    hdr[2] = (uint8_t)(len + 2);
    hdr[3] = (uint8_t)((len + 2) >> 8);
    put_le32(hdr + 4, 0);
    slip_start();
    slip_put(hdr, HDR);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t digest[16];
        if (tail[0] || md5_region(addr + i * FLASH_SECTOR, FLASH_SECTOR, digest)) {
            tail[0] = ST_MD5_READ_FAILED;
            fill_bytes(digest, 0, 16);
        }
        slip_put(digest, 16);
    }
    slip_put(tail, 2);
    slip_end();
}

/* The newest READ_FLASH ack (u32: bytes the host has received), if one has arrived. */
static int read_ack(uint32_t *acked)
{
    int32_t n;
    uint8_t *f = rx_peek(&n);
    if (!f)
        return 0;
    if (n == 4)
        *acked = get_le32(f);
    rx_release();
    return 1;
}

/* READ_FLASH after its reply: data frames, up to `window` of them not yet acknowledged, then
 * the MD5 frame once the host has acknowledged everything. */
static void read_flash(uint32_t addr, uint32_t len, uint32_t packet, uint32_t window)
{
    md5_ctx c;
    uint8_t digest[16];
    uint32_t sent = 0, acked = 0;
    md5_init(&c);
    io_claim();
    while (acked < len) {
        if (sent < len && sent - acked < window * packet) {
            uint32_t n = len - sent < packet ? len - sent : packet;
            if (hal_flash_read(addr + sent, io_words, (n + 3) & ~3u))
                return; /* no MD5 frame: the host times out waiting */
            md5_update(&c, (const uint8_t *)io_words, n);
            slip_start();
            slip_put((const uint8_t *)io_words, n);
            slip_end();
            sent += n;
        } else if (!read_ack(&acked)) {
            hal_uart_idle();
        }
        if (acked > sent)
            acked = sent;
    }
    md5_final(&c, digest);
    slip_start();
    slip_put(digest, 16);
    slip_end();
}

static int write_regs(const uint8_t *p, uint32_t plen)
{
    if (!plen || (plen & 15))
        return ST_BAD_DATA_LEN;
    for (; plen; p += 16, plen -= 16) {
        uint32_t addr = get_le32(p);
        uint32_t value = get_le32(p + 4);
        uint32_t mask = get_le32(p + 8);
        uint32_t delay = get_le32(p + 12);
        if (delay)
            hal_delay_us(delay);
        if (mask != 0xFFFFFFFFu)
            value = (value & mask) | (hal_reg_read(addr) & ~mask);
        hal_reg_write(addr, value);
    }
    return ST_OK;
}

/* The stub's own code and its DRAM (data, bss, stack), from the linker script. */
extern uint8_t _text_start[], _text_end[], _data_start[], _stack_top[];

static int mem_begin(const uint8_t *p, uint32_t plen)
{
    if (plen != 16)
        return ST_BAD_DATA_LEN;
    uint32_t size = get_le32(p);
    uint32_t addr = get_le32(p + 12);
    if (addr & 3)
        return ST_BAD_DATA_LEN;
    /* Loading over the running stub would crash it: refuse. */
    if (ranges_overlap(addr, size, _text_start, _text_end) || ranges_overlap(addr, size, _data_start, _stack_top))
        return ST_TOO_MUCH_DATA;
    st.mode = MODE_MEM;
    st.remaining = size;
    st.next_write = addr;
    st.seq = 0;
    return ST_OK;
}

static int mem_data(const uint8_t *data, uint32_t len)
{
    if (len & 3)
        return ST_BAD_DATA_LEN;
    if (len > st.remaining)
        return ST_TOO_MUCH_DATA;
    /* 32-bit stores only: IRAM takes no byte writes. */
    volatile uint32_t *dst = (volatile uint32_t *)st.next_write;
    const uint32_t *src = (const uint32_t *)data;
    for (uint32_t i = 0; i < len / 4; i++)
        dst[i] = src[i];
    st.next_write += len;
    st.remaining -= len;
    return ST_OK;
}

static void handle(uint32_t frame_len, int *released)
{
    uint8_t op = RX[1];
    uint32_t plen = RX[2] | ((uint32_t)RX[3] << 8);
    uint32_t chk = get_le32(RX + 4);
    uint8_t *p = RX + HDR;
    uint32_t value = 0;
    const uint8_t *data = 0;
    uint32_t dlen = 0;
    uint8_t extra = 0;
    int reboot = 0;
    int jump = 0;
    int status = ST_OK;
    uint8_t out[24];

    if (plen != frame_len - HDR) {
        reply(op, 0, 0, 0, ST_BAD_DATA_LEN, 0);
        return;
    }
    switch (op) {
    case OP_SYNC: {
        static const uint8_t head[4] = {0x07, 0x07, 0x12, 0x20};
        if (plen != 36)
            return; /* like the ROM: no answer to a malformed SYNC */
        for (uint32_t i = 0; i < 36; i++)
            if (p[i] != (i < 4 ? head[i] : 0x55))
                return;
        for (int i = 0; i < 7; i++)
            reply(op, 0, 0, 0, ST_OK, 0);
        break;
    }
    case OP_FLASH_BEGIN:
    case OP_FLASH_DEFL_BEGIN:
        status = begin(p, plen, op == OP_FLASH_DEFL_BEGIN);
        break;
    case OP_FLASH_DATA:
    case OP_FLASH_DEFL_DATA: {
        uint8_t s = ST_OK;
        if (st.sticky) {
            status = st.sticky;
            break;
        }
        int32_t n = data_checks(op == OP_FLASH_DATA ? MODE_FLASH : MODE_DEFLATE, p, plen, chk, &s);
        if (s) {
            status = s; /* a failed check is immediate and can be retried */
            break;
        }
        /* Acknowledge on receipt; the work overlaps the next block's reception. */
        reply(op, 0, 0, 0, ST_OK, 0);
        if (n >= 0)
            st.sticky = op == OP_FLASH_DATA ? flash_data(p + 16, (uint32_t)n) : defl_data(p + 16, (uint32_t)n);
        if (op == OP_FLASH_DATA)
            settle(); /* the block's buffer is reused once this returns; the inflate window is not */
        return;
    }
    case OP_MEM_DATA: {
        uint8_t s = ST_OK;
        int32_t n = data_checks(MODE_MEM, p, plen, chk, &s);
        status = n < 0 ? s : mem_data(p + 16, (uint32_t)n);
        break;
    }
    case OP_FLASH_END:
        status = finish(MODE_FLASH, p, plen, &reboot);
        break;
    case OP_FLASH_DEFL_END:
        status = finish(MODE_DEFLATE, p, plen, &reboot);
        break;
    case OP_MEM_BEGIN:
        status = mem_begin(p, plen);
        break;
    case OP_MEM_END:
        if (plen != 8)
            status = ST_BAD_DATA_LEN;
        else if (st.mode != MODE_MEM)
            status = ST_NOT_IN_FLASH_MODE;
        else if (st.remaining)
            status = ST_NOT_ENOUGH_DATA;
        else {
            st.mode = MODE_IDLE;
            jump = get_le32(p) == 0 && get_le32(p + 4) != 0;
        }
        break;
    case OP_WRITE_REG:
        status = write_regs(p, plen);
        break;
    case OP_READ_REG:
        if (plen != 4)
            status = ST_BAD_DATA_LEN;
        else
            value = hal_reg_read(get_le32(p));
        break;
    case OP_SPI_SET_PARAMS:
        if (plen != 24) {
            status = ST_BAD_DATA_LEN;
        } else {
            uint32_t params[6];
            for (int i = 0; i < 6; i++)
                params[i] = get_le32(p + 4 * i);
            extra = (uint8_t)hal_flash_set_params(params);
            st.flash_size = params[1];
        }
        break;
    case OP_SPI_ATTACH:
        if (plen != 4)
            status = ST_BAD_DATA_LEN;
        else if (hal_flash_attach(get_le32(p)))
            status = ST_FAILED_SPI_OP;
        break;
    case OP_CHANGE_BAUDRATE:
        if (plen != 8) {
            status = ST_BAD_DATA_LEN;
            break;
        }
        reply(op, 0, 0, 0, ST_OK, 0);
        hal_uart_drain();
        hal_uart_set_baud(get_le32(p), get_le32(p + 4));
        return;
    case OP_SPI_FLASH_MD5:
        if (plen != 16) {
            status = ST_BAD_DATA_LEN;
        } else {
            uint32_t addr = get_le32(p), len = get_le32(p + 4);
            if (st.sticky)
                status = st.sticky;
            else if (addr > st.flash_size || len > st.flash_size - addr)
                status = ST_MD5_READ_FAILED;
            else
                status = md5_region(addr, len, out);
            if (!status) {
                data = out;
                dlen = 16;
            }
        }
        break;
    case OP_ERASE_FLASH:
        if (plen != 0)
            status = ST_BAD_DATA_LEN;
        else if ((st.mode = MODE_IDLE, settle(), hal_flash_unlock()))
            status = ST_FAILED_SPI_UNLOCK;
        else if (hal_flash_erase_chip())
            status = ST_FAILED_SPI_OP;
        break;
    case OP_ERASE_REGION:
        if (plen != 8)
            status = ST_BAD_DATA_LEN;
        else
            status = erase_region(get_le32(p), get_le32(p + 4));
        break;
    case OP_READ_FLASH: {
        if (plen != 16) {
            status = ST_BAD_DATA_LEN;
            break;
        }
        uint32_t addr = get_le32(p), len = get_le32(p + 4), packet = get_le32(p + 8), window = get_le32(p + 12);
        if (!packet || packet > MAX_WRITE_BLOCK) {
            status = ST_BAD_BLOCKSIZE;
            break;
        }
        if (addr > st.flash_size || len > st.flash_size - addr) {
            status = ST_TOO_MUCH_DATA;
            break;
        }
        reply(op, 0, 0, 0, ST_OK, 0);
        rx_release(); /* the acks come into the receive buffers */
        *released = 1;
        read_flash(addr, len, packet, window < 1 ? 1 : window > READ_WINDOW ? READ_WINDOW : window);
        return;
    }
    case OP_SECTOR_MD5: {
        uint32_t addr = get_le32(p), count = get_le32(p + 4);
        if (plen != 8 || (addr & (FLASH_SECTOR - 1)) || !count || count > SECTOR_MD5_MAX) {
            status = ST_BAD_DATA_LEN;
            break;
        }
        if (addr > st.flash_size || count * FLASH_SECTOR > st.flash_size - addr) {
            status = ST_MD5_READ_FAILED;
            break;
        }
        sector_md5(addr, count);
        return;
    }
    case OP_RUN_USER_CODE:
        if (hal_chip_id != 0x8266) {
            status = ST_INVALID_COMMAND;
            break;
        }
        hal_uart_drain();
        hal_run_user_code();
        return;
    case OP_GET_VERSION:
        if (plen != 0) {
            status = ST_BAD_DATA_LEN;
            break;
        }
        put_le32(out, STUB_PROTOCOL_VERSION);
        put_le32(out + 4, hal_chip_id);
        put_le32(out + 8, CAP_DEFLATE | CAP_READ_FLASH | CAP_ERASE | CAP_MD5 | CAP_BEGIN_20 | CAP_STREAMING |
                              CAP_SECTOR_MD5 | CAP_READ_WINDOW | (hal_chip_id == 0x8266 ? CAP_RUN_USER_CODE : 0) |
                              (hal_can_encrypt ? CAP_ENCRYPTED_WRITE : 0));
        put_le32(out + 12, MAX_WRITE_BLOCK);
        put_le32(out + 16, MAX_IN_FLIGHT);
        put_le32(out + 20, READ_WINDOW);
        data = out;
        dlen = 24;
        break;
    default:
        status = ST_INVALID_COMMAND;
        break;
    }
    reply(op, value, data, dlen, (uint8_t)status, extra);
    if (status == ST_OK && reboot) {
        hal_uart_drain();
        hal_delay_us(10000);
        hal_reboot();
    }
    if (jump) {
        hal_uart_drain();
        hal_delay_us(1000);
        hal_jump(get_le32(p + 4));
    }
}

/* Nothing received: erase ahead of the write pointer, or wait. */
static void idle(void)
{
    if ((st.mode == MODE_FLASH || st.mode == MODE_DEFLATE) && !st.sticky)
        st.sticky = flash_erase_ahead();
    hal_uart_idle();
}

void stub_main(void)
{
    static const uint8_t ohai[4] = {'O', 'H', 'A', 'I'};
    st.mode = MODE_IDLE;
    st.flash_size = DEFAULT_FLASH_SIZE;
    hal_init();
    rx_init();
    slip_start();
    slip_put(ohai, 4);
    slip_end();
    for (;;) {
        int32_t n;
        RX = rx_peek(&n);
        if (!RX) {
            idle();
            continue;
        }
        int released = 0;
        if (n == SLIP_TOO_LONG)
            reply(RX[1], 0, 0, 0, ST_BAD_DATA_LEN, 0xEE);
        else if (n >= HDR && RX[0] == 0)
            handle((uint32_t)n, &released);
        if (!released)
            rx_release();
    }
}
