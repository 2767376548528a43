/* Resumable inflate: an explicit state machine that can stop at any bit of the input.
 * Huffman codes are decoded one bit at a time from canonical code counts, which keeps the
 * tables small and the resume points simple. */
#include "inflate.h"

enum {
    S_ZHDR,
    S_BLOCK,
    S_STORED_LEN,
    S_STORED_COPY,
    S_DYN_HDR,
    S_DYN_CLEN,
    S_DYN_LENS,
    S_DYN_REPEAT,
    S_SYM,
    S_LEN_EXTRA,
    S_DIST_SYM,
    S_DIST_EXTRA,
    S_ADLER,
    S_END,
};

#define ADLER_MOD 65521u

static const uint16_t LEN_BASE[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEN_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DIST_BASE[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
                                       33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t DIST_EXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
/* Order in which code length code lengths are sent. */
static const uint8_t CLEN_ORDER[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

void inf_init(inflater *s, uint8_t *window, inf_flush_fn flush, void *ctx)
{
    s->state = S_ZHDR;
    s->result = INF_MORE;
    s->bitbuf = 0;
    s->bitcnt = 0;
    s->last = 0;
    s->window = window;
    s->pos = 0;
    s->flushed = 0;
    s->poll = 0;
    s->total = 0;
    s->adler_a = 1;
    s->adler_b = 0;
    s->flush = flush;
    s->ctx = ctx;
}

/* Build canonical decoding counts and symbols from code lengths.
 * Returns <0 when over-subscribed, 0 when complete, >0 when incomplete. */
static int32_t build(inf_huff *h, const uint16_t *lengths, uint32_t n)
{
    uint16_t offs[16];
    for (int i = 0; i < 16; i++)
        h->count[i] = 0;
    for (uint32_t i = 0; i < n; i++)
        h->count[lengths[i]]++;
    if (h->count[0] == n)
        return 1; /* no codes: decoding any symbol fails */
    int32_t left = 1;
    for (int i = 1; i < 16; i++) {
        left <<= 1;
        left -= h->count[i];
        if (left < 0)
            return left;
    }
    offs[1] = 0;
    for (int i = 1; i < 15; i++)
        offs[i + 1] = (uint16_t)(offs[i] + h->count[i]);
    for (uint32_t i = 0; i < n; i++)
        if (lengths[i])
            h->symbol[offs[lengths[i]]++] = (uint16_t)i;
    return left;
}

static void fixed_tables(inflater *s)
{
    uint32_t i = 0;
    for (; i < 144; i++)
        s->lengths[i] = 8;
    for (; i < 256; i++)
        s->lengths[i] = 9;
    for (; i < 280; i++)
        s->lengths[i] = 7;
    for (; i < 288; i++)
        s->lengths[i] = 8;
    build(&s->lencode, s->lengths, 288);
    for (i = 0; i < 30; i++)
        s->lengths[i] = 5;
    build(&s->distcode, s->lengths, 30);
}

/* Hand the not yet flushed part of the window to the callback. */
static int32_t flush_window(inflater *s, int final)
{
    uint32_t n = s->pos - s->flushed;
    if (!n)
        return 0;
    if (!final && (n & 3))
        n &= ~3u;
    if (s->flush(s->ctx, s->window + s->flushed, n))
        return INF_ERR_FLUSH;
    s->flushed += n;
    return 0;
}

static int32_t put_byte(inflater *s, uint8_t c)
{
    uint32_t a = s->adler_a + c;
    if (a >= ADLER_MOD)
        a -= ADLER_MOD;
    uint32_t b = s->adler_b + a;
    if (b >= ADLER_MOD)
        b -= ADLER_MOD;
    s->adler_a = a;
    s->adler_b = b;
    s->window[s->pos++] = c;
    s->total++;
    /* Flush every INF_FLUSH_STEP bytes: the callback (the stub's flash writer) then runs often
     * enough to drain the UART between pieces of inflate work. */
    if (!(s->pos & (INF_FLUSH_STEP - 1))) {
        int32_t r = flush_window(s, 0);
        if (r)
            return r;
        if (s->pos == INF_WINDOW) {
            s->pos = 0;
            s->flushed = 0;
        }
    }
    return 0;
}

/* Remainder of v by 31 without a divide instruction. */
static uint32_t mod31(uint32_t v)
{
    for (uint32_t d = 31u << 11; d >= 31; d >>= 1)
        if (v >= d)
            v -= d;
    return v;
}

#define NEED(n)                                   \
    do {                                          \
        while (s->bitcnt < (n)) {                 \
            if (in == end)                        \
                goto out;                         \
            s->bitbuf |= (uint32_t)*in++ << s->bitcnt; \
            s->bitcnt += 8;                       \
        }                                         \
    } while (0)

#define BITS(n) (s->bitbuf & ((1u << (n)) - 1))
#define DROP(n)              \
    do {                     \
        s->bitbuf >>= (n);   \
        s->bitcnt -= (n);    \
    } while (0)

#define FAIL(code)         \
    do {                   \
        s->result = (code); \
        goto out;          \
    } while (0)

/* Start decoding a Huffman symbol. */
#define HUFF_START()  \
    do {              \
        s->hcode = 0;  \
        s->hfirst = 0; \
        s->hindex = 0; \
        s->hlen = 1;   \
    } while (0)

int32_t inf_feed(inflater *s, const uint8_t *in, uint32_t len)
{
    const uint8_t *end = in + len;
    if (s->result != INF_MORE)
        return s->result;
    for (;;) {
        if (s->poll && !(++s->ticks & 15))
            s->poll();
        switch (s->state) {
        case S_ZHDR: {
            NEED(16);
            uint32_t cmf = BITS(8), flg = (s->bitbuf >> 8) & 0xFF;
            DROP(16);
            if ((cmf & 0x0F) != 8 || (cmf >> 4) > 7 || (flg & 0x20) || mod31((cmf << 8) | flg))
                FAIL(INF_ERR_HEADER);
            s->state = S_BLOCK;
            break;
        }
        case S_BLOCK: {
            if (s->last) {
                DROP(s->bitcnt & 7);
                s->state = S_ADLER;
                break;
            }
            NEED(3);
            uint32_t type = (s->bitbuf >> 1) & 3;
            s->last = s->bitbuf & 1;
            DROP(3);
            if (type == 0) {
                DROP(s->bitcnt & 7);
                s->state = S_STORED_LEN;
            } else if (type == 1) {
                fixed_tables(s);
                HUFF_START();
                s->state = S_SYM;
            } else if (type == 2) {
                s->state = S_DYN_HDR;
            } else {
                FAIL(INF_ERR_DATA);
            }
            break;
        }
        case S_STORED_LEN: {
            NEED(32);
            uint32_t n = s->bitbuf & 0xFFFF;
            uint32_t nn = s->bitbuf >> 16;
            s->bitbuf = 0;
            s->bitcnt = 0;
            if ((n ^ nn) != 0xFFFF)
                FAIL(INF_ERR_DATA);
            s->stored_left = n;
            s->state = S_STORED_COPY;
            break;
        }
        case S_STORED_COPY:
            while (s->stored_left) {
                uint8_t c;
                if (s->bitcnt >= 8) {
                    c = (uint8_t)s->bitbuf;
                    DROP(8);
                } else {
                    if (in == end)
                        goto out;
                    c = *in++;
                }
                if (put_byte(s, c))
                    FAIL(INF_ERR_FLUSH);
                s->stored_left--;
            }
            s->state = S_BLOCK;
            break;
        case S_DYN_HDR:
            NEED(14);
            s->nlen = BITS(5) + 257;
            s->ndist = ((s->bitbuf >> 5) & 31) + 1;
            s->ncode = ((s->bitbuf >> 10) & 15) + 4;
            DROP(14);
            if (s->nlen > 286 || s->ndist > 30)
                FAIL(INF_ERR_DATA);
            s->index = 0;
            s->state = S_DYN_CLEN;
            break;
        case S_DYN_CLEN:
            while (s->index < s->ncode) {
                NEED(3);
                s->lengths[CLEN_ORDER[s->index++]] = (uint16_t)BITS(3);
                DROP(3);
            }
            while (s->index < 19)
                s->lengths[CLEN_ORDER[s->index++]] = 0;
            if (build(&s->lencode, s->lengths, 19) != 0)
                FAIL(INF_ERR_DATA); /* code length code must be complete */
            s->index = 0;
            HUFF_START();
            s->state = S_DYN_LENS;
            break;
        case S_DYN_LENS:
        case S_SYM:
        case S_DIST_SYM: {
            inf_huff *h = s->state == S_DIST_SYM ? &s->distcode : &s->lencode;
            if (s->state == S_DYN_LENS && s->index >= s->nlen + s->ndist) {
                if (s->lengths[256] == 0)
                    FAIL(INF_ERR_DATA); /* no end-of-block code */
                if (build(&s->lencode, s->lengths, s->nlen) < 0)
                    FAIL(INF_ERR_DATA);
                if (build(&s->distcode, s->lengths + s->nlen, s->ndist) < 0)
                    FAIL(INF_ERR_DATA);
                HUFF_START();
                s->state = S_SYM;
                break;
            }
            int32_t sym;
            for (;;) {
                NEED(1);
                s->hcode |= (int32_t)(s->bitbuf & 1);
                DROP(1);
                int32_t count = h->count[s->hlen];
                if (s->hcode - s->hfirst < count) {
                    sym = h->symbol[s->hindex + s->hcode - s->hfirst];
                    break;
                }
                s->hindex += count;
                s->hfirst = (s->hfirst + count) << 1;
                s->hcode <<= 1;
                if (++s->hlen > 15)
                    FAIL(INF_ERR_DATA);
            }
            HUFF_START();
            if (s->state == S_DYN_LENS) {
                if (sym < 16) {
                    s->lengths[s->index++] = (uint16_t)sym;
                    break;
                }
                if (sym == 16) {
                    if (s->index == 0)
                        FAIL(INF_ERR_DATA);
                    s->rep_val = s->lengths[s->index - 1];
                    s->rep_bits = 2;
                    s->rep_base = 3;
                } else {
                    s->rep_val = 0;
                    s->rep_bits = sym == 17 ? 3 : 7;
                    s->rep_base = sym == 17 ? 3 : 11;
                }
                s->state = S_DYN_REPEAT;
            } else if (s->state == S_SYM) {
                if (sym < 256) {
                    if (put_byte(s, (uint8_t)sym))
                        FAIL(INF_ERR_FLUSH);
                } else if (sym == 256) {
                    s->state = S_BLOCK;
                } else {
                    sym -= 257;
                    if (sym >= 29)
                        FAIL(INF_ERR_DATA);
                    s->sym = (uint32_t)sym;
                    s->state = S_LEN_EXTRA;
                }
            } else {
                if (sym >= 30)
                    FAIL(INF_ERR_DATA);
                s->dist_sym = (uint32_t)sym;
                s->state = S_DIST_EXTRA;
            }
            break;
        }
        case S_DYN_REPEAT: {
            NEED(s->rep_bits);
            uint32_t n = s->rep_base + BITS(s->rep_bits);
            DROP(s->rep_bits);
            if (s->index + n > s->nlen + s->ndist)
                FAIL(INF_ERR_DATA);
            while (n--)
                s->lengths[s->index++] = (uint16_t)s->rep_val;
            s->state = S_DYN_LENS;
            break;
        }
        case S_LEN_EXTRA: {
            uint32_t nb = LEN_EXTRA[s->sym];
            NEED(nb);
            s->length = LEN_BASE[s->sym] + BITS(nb);
            DROP(nb);
            s->state = S_DIST_SYM;
            break;
        }
        case S_DIST_EXTRA: {
            uint32_t nb = DIST_EXTRA[s->dist_sym];
            NEED(nb);
            uint32_t dist = DIST_BASE[s->dist_sym] + BITS(nb);
            DROP(nb);
            if (dist > s->total)
                FAIL(INF_ERR_DATA);
            uint32_t from = (s->pos - dist) & (INF_WINDOW - 1);
            for (uint32_t n = s->length; n; n--) {
                uint8_t c = s->window[from];
                from = (from + 1) & (INF_WINDOW - 1);
                if (put_byte(s, c))
                    FAIL(INF_ERR_FLUSH);
            }
            s->state = S_SYM;
            break;
        }
        case S_ADLER: {
            /* Four bytes, most significant first; read as two 16-bit halves. */
            NEED(16);
            uint32_t hi = s->bitbuf & 0xFFFF;
            DROP(16);
            hi = ((hi & 0xFF) << 8) | (hi >> 8);
            if (hi != s->adler_b)
                FAIL(INF_ERR_ADLER);
            s->state = S_END;
            break;
        }
        case S_END: {
            NEED(16);
            uint32_t lo = s->bitbuf & 0xFFFF;
            DROP(16);
            lo = ((lo & 0xFF) << 8) | (lo >> 8);
            if (lo != s->adler_a)
                FAIL(INF_ERR_ADLER);
            if (flush_window(s, 1))
                FAIL(INF_ERR_FLUSH);
            s->result = INF_DONE;
            goto out;
        }
        default:
            FAIL(INF_ERR_DATA);
        }
    }
out:
    return s->result;
}
