/* Call0 code (what the stub is) calling windowed functions through win_call after entering from a
 * windowed caller. Exit status 0 = every result right; the output line shows the values. */
#include "semihost.h"
#include <stdint.h>

uint32_t win_call(uint32_t fn, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f);
void rom_sum3(void);
void rom_sum6(void);
void rom_recurse(void);

static uint32_t expect_recurse(uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 1; i <= n; i++)
        s += i + 2 * i + (i ^ 0x55) + (i + 1000) + (i + 7);
    return s;
}

/* Call0 recursion around the windowed calls, so sp and live callee-saved registers vary. */
static uint32_t nest(uint32_t depth, uint32_t acc)
{
    uint32_t keep1 = acc * 3 + depth, keep2 = acc ^ 0x5A5A, keep3 = depth << 4;
    uint32_t bad = 0;
    if (depth)
        bad += nest(depth - 1, acc + 1);
    bad += win_call((uint32_t)rom_sum3, depth, 10, 100, 0, 0, 0) != depth + 110;
    bad += win_call((uint32_t)rom_sum6, 1, 2, 3, 4, 5, 6) != 1 + 2 + 3 + 4 + (5 << 8) + (6 << 16);
    bad += win_call((uint32_t)rom_recurse, 40 + depth, 0, 0, 0, 0, 0) != expect_recurse(40 + depth);
    bad += keep1 != acc * 3 + depth || keep2 != (acc ^ 0x5A5A) || keep3 != depth << 4;
    return bad;
}

void stub_main(void)
{
    uint32_t bad = nest(5, 1);
    static const char ok[] = "window test: ok\n";
    static const char fail[] = "window test: FAILED\n";
    if (bad)
        sim_write_all(1, fail, sizeof fail - 1);
    else
        sim_write_all(1, ok, sizeof ok - 1);
    sim_exit(bad ? 1 : 0);
}
