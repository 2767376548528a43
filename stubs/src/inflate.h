/* Resumable zlib (RFC 1950) / deflate (RFC 1951) decoder.
 *
 * Input arrives in pieces of any size (down to one byte); decoded bytes go into a 32 KiB window
 * and are handed to a flush callback every INF_FLUSH_STEP bytes and at the end of the stream. */
#ifndef STUB_INFLATE_H
#define STUB_INFLATE_H
#include <stdint.h>

#define INF_WINDOW 32768u
/* Output is handed to the flush callback every this many bytes (and at the end). */
#define INF_FLUSH_STEP 64u

enum {
    INF_MORE = 0,        /* all input used, stream not finished */
    INF_DONE = 1,        /* stream finished and Adler-32 matched */
    INF_ERR_HEADER = -1, /* bad zlib header */
    INF_ERR_DATA = -2,   /* invalid deflate data */
    INF_ERR_ADLER = -3,  /* checksum mismatch */
    INF_ERR_FLUSH = -4,  /* the flush callback failed */
};

/* Called with a word-aligned chunk; len is a multiple of 4 except possibly the final chunk.
 * Return 0 to go on. */
typedef int (*inf_flush_fn)(void *ctx, const uint8_t *p, uint32_t len);

typedef struct {
    uint16_t count[16];
    uint16_t symbol[288];
} inf_huff;

typedef struct {
    int32_t state;
    int32_t result;
    uint32_t bitbuf;
    uint32_t bitcnt;
    /* block */
    uint32_t last;
    uint32_t stored_left;
    /* Huffman decoding in progress */
    int32_t hcode, hfirst, hindex, hlen;
    /* dynamic table header */
    uint32_t nlen, ndist, ncode, index;
    uint32_t sym, rep_val, rep_bits, rep_base;
    /* match */
    uint32_t length, dist_sym;
    /* window */
    uint8_t *window;
    uint32_t pos;
    uint32_t flushed;
    uint32_t total;
    uint32_t adler_a, adler_b;
    inf_flush_fn flush;
    void *ctx;
    /* Called every 16 decoding steps when set (the stub drains its UART there). */
    void (*poll)(void);
    uint32_t ticks;
    uint16_t lengths[320];
    inf_huff lencode;
    inf_huff distcode;
} inflater;

/* window: INF_WINDOW + 4 bytes, word aligned. */
void inf_init(inflater *s, uint8_t *window, inf_flush_fn flush, void *ctx);
/* Decode as much as possible from in[0..len). Returns INF_MORE, INF_DONE or an INF_ERR_*.
 * After INF_DONE or an error every further call returns the same result. */
int32_t inf_feed(inflater *s, const uint8_t *in, uint32_t len);
#endif
