#include "util.h"

void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n)
{
    while (n--)
        *dst++ = *src++;
}

void fill_bytes(uint8_t *dst, uint8_t v, uint32_t n)
{
    while (n--)
        *dst++ = v;
}

uint32_t udiv32(uint32_t num, uint32_t den, uint32_t *rem)
{
    uint32_t q = 0, r = 0;
    for (int i = 31; i >= 0; i--) {
        r = (r << 1) | ((num >> i) & 1);
        if (r >= den) {
            r -= den;
            q |= 1u << i;
        }
    }
    if (rem)
        *rem = r;
    return q;
}

uint8_t data_checksum(const uint8_t *p, uint32_t n)
{
    uint8_t c = 0xEF;
    while (n--)
        c ^= *p++;
    return c;
}

int ranges_overlap(uint32_t addr, uint32_t size, const uint8_t *lo, const uint8_t *hi)
{
    uint32_t l = (uint32_t)lo, h = (uint32_t)hi;
    return size && addr < h && (addr >= l || l - addr < size);
}
