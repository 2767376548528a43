#ifndef STUB_MD5_H
#define STUB_MD5_H
#include <stdint.h>

typedef struct {
    uint32_t state[4];
    uint32_t count;     /* bytes hashed so far (inputs below 4 GiB) */
    uint8_t block[64];
} md5_ctx;

void md5_init(md5_ctx *c);
void md5_update(md5_ctx *c, const uint8_t *p, uint32_t n);
void md5_final(md5_ctx *c, uint8_t digest[16]);
#endif
