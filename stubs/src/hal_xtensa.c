/* HAL pieces every Xtensa chip here shares: delays from the cycle counter, 32-bit register access. */
#include "hal.h"

/* Assumed CPU cycles per microsecond for delays (longer on a slower clock, never shorter). */
#define CYCLES_PER_US 80

static inline uint32_t ccount(void)
{
    uint32_t c;
    __asm__ volatile("rsr %0, ccount" : "=a"(c));
    return c;
}

void hal_delay_us(uint32_t us)
{
    uint32_t start = ccount();
    uint32_t cycles = us * CYCLES_PER_US;
    while (ccount() - start < cycles)
        ;
}

uint32_t hal_reg_read(uint32_t addr)
{
    return *(volatile uint32_t *)addr;
}

void hal_reg_write(uint32_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}
