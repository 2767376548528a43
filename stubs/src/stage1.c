/* Stage 1: a tiny loader the ROM starts (MEM_END) on a chip whose ROM cannot change its baud rate
 * (the ESP8266). It greets with "S1HI", then serves, in the ROM's packet format and with ROM-style
 * 2-byte status ([0, 0] OK, [1, code] failure with a ROM error code, PROTOCOL.md 1.5 / 1.7):
 *
 *   CHANGE_BAUDRATE (new, old)   divider × old / new, as the stub does (old must be non-zero)
 *   MEM_BEGIN / MEM_DATA / MEM_END   load the main stub at the new baud and jump to its entry
 *
 * Nothing else: SYNC draws no answer, any other opcode [1, 0x05] (what ROMs answer to an unknown
 * opcode). A load that would overlap stage 1's own code, data, buffer or stack is refused, so the
 * main stub can never overwrite the loader that is loading it. UART and SLIP are the stub's own
 * (uart_fifo.c, slip.c); the baud divider is the ESP8266 stub's (chips/esp8266/uart_baud.c). */
#include "hal.h"
#include "proto.h"
#include "slip.h"
#include "util.h"

#define HDR 8
/* MEM_DATA blocks up to ESP_RAM_BLOCK (0x1800, PROTOCOL.md 2.3) after their 16-byte sub-header. */
#define RAM_BLOCK 0x1800u
#define FRAME_MAX (HDR + 16 + RAM_BLOCK)

/* ROM error codes (PROTOCOL.md 1.7). */
#define E_BAD_PARAM 0x01
#define E_MALFORMED 0x05
#define E_CHECKSUM 0x07
#define E_RAM_SIZE 0x0E
#define E_RAM_ADDR 0x0F

static uint32_t frame_words[(FRAME_MAX + 3) / 4];
static struct {
    uint32_t next;   /* RAM address of the next byte */
    uint32_t remaining;
    uint32_t seq;
} mem;

extern uint8_t _text_start[], _text_end[], _data_start[], _stack_top[];

/* uart_fifo.c polls the receiver while the TX FIFO is full; stage 1 sends only 10-byte replies
 * and the host waits for each one, so nothing needs taking meanwhile. */
void rx_poll(void)
{
}

static void reply(uint8_t op, uint8_t error)
{
    uint8_t f[HDR + 2] = {1, op, 2, 0, 0, 0, 0, 0, error ? 1 : 0, error};
    slip_start();
    slip_put(f, sizeof f);
    slip_end();
}

static int32_t read_frame(uint8_t *buf)
{
    slip_dec d;
    slip_dec_init(&d, buf, FRAME_MAX);
    for (;;) {
        if (!hal_uart_rx_ready()) {
            hal_uart_idle();
            continue;
        }
        int32_t r = slip_dec_byte(&d, hal_uart_rx_byte());
        if (r)
            return r;
    }
}

/* The frame buffer is word aligned and so is the payload (offset 8): its u32 fields are read as
 * words (the lx106 faults on unaligned loads; these are aligned). */
static uint8_t mem_begin(const uint32_t *w, uint32_t plen)
{
    if (plen != 16)
        return E_MALFORMED;
    uint32_t size = w[0], addr = w[3];
    if (addr & 3)
        return E_RAM_ADDR;
    /* stage 1's IRAM code, and its DRAM: data, frame buffer, stack (up to _stack_top) */
    if (ranges_overlap(addr, size, _text_start, _text_end) || ranges_overlap(addr, size, _data_start, _stack_top))
        return E_RAM_ADDR;
    mem.next = addr;
    mem.remaining = size;
    mem.seq = 0;
    return 0;
}

static uint8_t mem_data(const uint32_t *w, uint32_t plen, uint32_t chk)
{
    uint32_t len = plen - 16;
    if (plen < 16 || w[0] != len)
        return E_MALFORMED;
    if (data_checksum((const uint8_t *)(w + 4), len) != (uint8_t)chk)
        return E_CHECKSUM;
    if (w[1] != mem.seq)
        return E_BAD_PARAM;
    if ((len & 3) || len > mem.remaining) /* also: no MEM_BEGIN yet (nothing remains) */
        return E_RAM_SIZE;
    /* 32-bit stores only: IRAM takes no byte writes. */
    volatile uint32_t *dst = (volatile uint32_t *)mem.next;
    for (uint32_t i = 0; i < len / 4; i++)
        dst[i] = w[4 + i];
    mem.next += len;
    mem.remaining -= len;
    mem.seq++;
    return 0;
}

static void handle(uint32_t n)
{
    const uint8_t *f = (const uint8_t *)frame_words;
    const uint32_t *w = frame_words + 2;
    uint8_t op = f[1];
    uint32_t plen = *(const uint16_t *)(f + 2);
    uint8_t error = E_MALFORMED;
    if (op == OP_SYNC)
        return; /* stage 1 is SYNC-free: a host that syncs finds no loader and resets */
    if (plen != n - HDR) {
        reply(op, E_MALFORMED);
        return;
    }
    if (op == OP_MEM_BEGIN) {
        error = mem_begin(w, plen);
    } else if (op == OP_MEM_DATA) {
        error = mem_data(w, plen, frame_words[1]);
    } else if (op == OP_CHANGE_BAUDRATE && plen == 8) {
        error = E_BAD_PARAM;
        if (w[0] && w[1]) {
            reply(op, 0); /* at the old rate */
            hal_uart_drain();
            hal_uart_set_baud(w[0], w[1]);
            return;
        }
    } else if (op == OP_MEM_END && plen == 8) {
        error = E_RAM_SIZE;
        if (!mem.remaining) {
            reply(op, 0);
            if (w[0] == 0) {
                hal_uart_drain();
                hal_jump(w[1]);
            }
            return;
        }
    }
    reply(op, error);
}

void stub_main(void)
{
    static const uint8_t hello[4] = {'S', '1', 'H', 'I'};
    slip_start();
    slip_put(hello, sizeof hello);
    slip_end();
    for (;;) {
        int32_t n = read_frame((uint8_t *)frame_words);
        if (n >= HDR && ((const uint8_t *)frame_words)[0] == 0)
            handle((uint32_t)n);
    }
}
