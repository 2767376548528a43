/* Small freestanding helpers (no libc, no libgcc division). */
#ifndef STUB_UTIL_H
#define STUB_UTIL_H
#include <stdint.h>

static inline uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n);
void fill_bytes(uint8_t *dst, uint8_t v, uint32_t n);
/* Unsigned division by shift and subtract; *rem gets the remainder when not NULL. */
uint32_t udiv32(uint32_t num, uint32_t den, uint32_t *rem);
/* The loader's data checksum: XOR of the bytes, seeded with 0xEF. */
uint8_t data_checksum(const uint8_t *p, uint32_t n);
/* [addr, addr+size) and [lo, hi) share a byte. */
int ranges_overlap(uint32_t addr, uint32_t size, const uint8_t *lo, const uint8_t *hi);
#endif
