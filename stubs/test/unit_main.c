/* Unit-test harness: the host sends requests on stdin, the compiled SLIP, inflate and MD5 code
 * answers on stdout. Request: u8 op, u32 arg, u32 len, data. Answer: i32 status, u32 len, data. */
#include "inflate.h"
#include "md5.h"
#include "semihost.h"
#include "slip.h"
#include "util.h"

#define IN_BUF ((uint8_t *)0x60000000)
#define OUT_BUF ((uint8_t *)0x62000000)
#define OUT_MAX (32u << 20)
#define RANDOM_CHUNKS 0x80000000u

static uint32_t window_words[(INF_WINDOW + 4) / 4];
static inflater inf;
static uint32_t out_len;
static int32_t out_fault;
static const uint8_t *src;
static uint32_t src_len, src_pos;
static int src_done;

/* SLIP code links against these two: a memory "UART". */
uint8_t hal_uart_getc(void)
{
    /* After the input: END, 'Z', END, so that slip_recv returns whatever state it was in. */
    static const uint8_t tail[3] = {SLIP_END, 'Z', SLIP_END};
    static uint32_t tail_pos;
    if (src_pos < src_len)
        return src[src_pos++];
    if (!src_done)
        tail_pos = 0;
    src_done = 1;
    if (tail_pos == 3)
        tail_pos = 0;
    return tail[tail_pos++];
}

void hal_uart_write(const uint8_t *p, uint32_t n)
{
    while (n--) {
        if (out_len < OUT_MAX)
            OUT_BUF[out_len] = *p;
        out_len++;
        p++;
    }
}

void hal_uart_push(void)
{
}

static void answer(int32_t status, const uint8_t *p, uint32_t n)
{
    uint8_t h[8];
    put_le32(h, (uint32_t)status);
    put_le32(h + 4, n);
    sim_write_all(1, h, 8);
    if (n)
        sim_write_all(1, p, n);
}

/* Inflate output sink: check the contract (aligned chunks, multiples of 4 until the end). */
static int sink(void *ctx, const uint8_t *p, uint32_t n)
{
    (void)ctx;
    if (((uintptr_t)p & 3) || out_fault == 2)
        return out_fault = 1; /* unaligned, or a chunk after the ragged last one */
    if (n & 3)
        out_fault = 2;
    for (uint32_t i = 0; i < n; i++)
        OUT_BUF[out_len + i] = p[i];
    out_len += n;
    return 0;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Chunk size for the next feed: arg 0 = all, n = n bytes, RANDOM_CHUNKS|seed = 1..4096 random. */
static uint32_t next_chunk(uint32_t arg, uint32_t *seed, uint32_t left)
{
    uint32_t n = arg;
    if (arg & RANDOM_CHUNKS)
        n = (xorshift(seed) & 4095) + 1;
    if (n == 0 || n > left)
        n = left;
    return n;
}

static void do_inflate(uint32_t arg, uint32_t len)
{
    uint32_t seed = (arg & 0x7FFFFFFF) | 1;
    int32_t r = INF_MORE;
    uint32_t pos = 0;
    out_len = 0;
    out_fault = 0;
    inf_init(&inf, (uint8_t *)window_words, sink, 0);
    while (pos < len && r == INF_MORE) {
        uint32_t n = next_chunk(arg, &seed, len - pos);
        r = inf_feed(&inf, IN_BUF + pos, n);
        pos += n;
    }
    if (r == INF_MORE)
        r = inf_feed(&inf, IN_BUF, 0);
    if (out_fault == 1)
        r = 100;
    answer(r, OUT_BUF, out_len);
}

static void do_md5(uint32_t arg, uint32_t len)
{
    md5_ctx c;
    uint8_t d[16];
    uint32_t seed = (arg & 0x7FFFFFFF) | 1;
    uint32_t pos = 0;
    md5_init(&c);
    while (pos < len) {
        uint32_t n = next_chunk(arg, &seed, len - pos);
        md5_update(&c, IN_BUF + pos, n);
        pos += n;
    }
    md5_final(&c, d);
    answer(0, d, 16);
}

/* One frame from the memory "UART", as the stub's receiver decodes it. */
static int32_t slip_recv(uint8_t *buf, uint32_t max)
{
    slip_dec d;
    slip_dec_init(&d, buf, max);
    for (;;) {
        int32_t r = slip_dec_byte(&d, hal_uart_getc());
        if (r)
            return r;
    }
}

/* Decode frames from the bytes given; answer: [i32 length or error, bytes]... */
static void do_slip_decode(uint32_t max, uint32_t len)
{
    uint8_t frame[256];
    uint32_t n = 0;
    src = IN_BUF;
    src_len = len;
    src_pos = 0;
    src_done = 0;
    out_len = 0;
    if (max > sizeof frame)
        max = sizeof frame;
    for (;;) {
        int32_t r = slip_recv(frame, max);
        if (src_done)
            break;
        uint8_t h[4];
        put_le32(h, (uint32_t)r);
        hal_uart_write(h, 4);
        if (r > 0)
            hal_uart_write(frame, (uint32_t)r);
        n++;
    }
    answer((int32_t)n, OUT_BUF, out_len);
}

static void do_slip_encode(uint32_t len)
{
    out_len = 0;
    slip_start();
    slip_put(IN_BUF, len);
    slip_end();
    answer(0, OUT_BUF, out_len);
}

void stub_main(void)
{
    for (;;) {
        uint8_t h[9];
        sim_read_all(h, 9);
        uint32_t arg = get_le32(h + 1), len = get_le32(h + 5);
        if (len)
            sim_read_all(IN_BUF, len);
        switch (h[0]) {
        case 'I':
            do_inflate(arg, len);
            break;
        case 'M':
            do_md5(arg, len);
            break;
        case 'D':
            do_slip_decode(arg, len);
            break;
        case 'E':
            do_slip_encode(len);
            break;
        case 'Q':
            sim_exit(0);
            break;
        default:
            answer(-1000, 0, 0);
            break;
        }
    }
}
