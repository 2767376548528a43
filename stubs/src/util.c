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
