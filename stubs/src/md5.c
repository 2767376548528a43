/* MD5 (RFC 1321), written from the specification's description of the algorithm. */
#include "md5.h"
#include "util.h"

/* K[i] = floor(abs(sin(i + 1)) * 2^32). */
static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Rotation amounts, four per round. */
static const uint8_t ROT[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

static void md5_block(uint32_t st[4], const uint8_t *b)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = get_le32(b + 4 * i);
    uint32_t a = st[0], bb = st[1], c = st[2], d = st[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        int round = i >> 4;
        if (round == 0) {
            f = (bb & c) | (~bb & d);
            g = i;
        } else if (round == 1) {
            f = (d & bb) | (~d & c);
            g = (5 * i + 1) & 15;
        } else if (round == 2) {
            f = bb ^ c ^ d;
            g = (3 * i + 5) & 15;
        } else {
            f = c ^ (bb | ~d);
            g = (7 * i) & 15;
        }
        uint32_t s = ROT[(round << 2) | (i & 3)];
        uint32_t t = a + f + K[i] + w[g];
        a = d;
        d = c;
        c = bb;
        bb = bb + ((t << s) | (t >> (32 - s)));
    }
    st[0] += a;
    st[1] += bb;
    st[2] += c;
    st[3] += d;
}

void md5_init(md5_ctx *c)
{
    c->state[0] = 0x67452301;
    c->state[1] = 0xefcdab89;
    c->state[2] = 0x98badcfe;
    c->state[3] = 0x10325476;
    c->count = 0;
}

void md5_update(md5_ctx *c, const uint8_t *p, uint32_t n)
{
    uint32_t have = c->count & 63;
    c->count += n;
    if (have) {
        uint32_t take = 64 - have;
        if (take > n)
            take = n;
        copy_bytes(c->block + have, p, take);
        p += take;
        n -= take;
        if (have + take < 64)
            return;
        md5_block(c->state, c->block);
    }
    while (n >= 64) {
        md5_block(c->state, p);
        p += 64;
        n -= 64;
    }
    copy_bytes(c->block, p, n);
}

void md5_final(md5_ctx *c, uint8_t digest[16])
{
    uint32_t bits_lo = c->count << 3;
    uint32_t bits_hi = c->count >> 29;
    uint32_t have = c->count & 63;
    c->block[have++] = 0x80;
    if (have > 56) {
        fill_bytes(c->block + have, 0, 64 - have);
        md5_block(c->state, c->block);
        have = 0;
    }
    fill_bytes(c->block + have, 0, 56 - have);
    put_le32(c->block + 56, bits_lo);
    put_le32(c->block + 60, bits_hi);
    md5_block(c->state, c->block);
    for (int i = 0; i < 4; i++)
        put_le32(digest + 4 * i, c->state[i]);
}
