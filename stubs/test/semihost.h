/* QEMU semihosting (the Xtensa "simcall" instruction). Test builds only: never runs on silicon. */
#ifndef STUB_SEMIHOST_H
#define STUB_SEMIHOST_H
#include <stdint.h>

#define SYS_EXIT 1
#define SYS_READ 3
#define SYS_WRITE 4
#define SYS_SELECT_ONE 29
#define SELECT_ONE_READ 1

static inline int32_t simcall(int32_t nr, int32_t a, int32_t b, int32_t c)
{
    register int32_t r2 __asm__("a2") = nr;
    register int32_t r3 __asm__("a3") = a;
    register int32_t r4 __asm__("a4") = b;
    register int32_t r5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(r2), "+r"(r3) : "r"(r4), "r"(r5) : "memory");
    return r2;
}

static inline void sim_exit(int32_t code)
{
    for (;;)
        simcall(SYS_EXIT, code, 0, 0);
}

/* Read up to n bytes from fd; blocks until at least one arrives. */
static inline int32_t sim_read(int32_t fd, void *p, uint32_t n)
{
    return simcall(SYS_READ, fd, (int32_t)(uintptr_t)p, (int32_t)n);
}

/* > 0 when fd has input; tv (seconds, microseconds) 0 waits for ever. */
static inline int32_t sim_select_read(int32_t fd, const uint32_t *tv)
{
    return simcall(SYS_SELECT_ONE, fd, SELECT_ONE_READ, (int32_t)(uintptr_t)tv);
}

static inline void sim_write_all(int32_t fd, const void *p, uint32_t n)
{
    const uint8_t *b = (const uint8_t *)p;
    while (n) {
        int32_t r = simcall(SYS_WRITE, fd, (int32_t)(uintptr_t)b, (int32_t)n);
        if (r <= 0)
            sim_exit(4);
        b += r;
        n -= (uint32_t)r;
    }
}

/* Read exactly n bytes from stdin or exit. */
static inline void sim_read_all(void *p, uint32_t n)
{
    uint8_t *b = (uint8_t *)p;
    while (n) {
        int32_t r = sim_read(0, b, n);
        if (r <= 0)
            sim_exit(3);
        b += r;
        n -= (uint32_t)r;
    }
}
#endif
