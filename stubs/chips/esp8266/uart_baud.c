/* ESP8266 UART0 baud change, shared by the stub and the stage-1 loader (src/stage1.c): the new
 * divider is the current one scaled by old/new, so whatever clock the ROM autobauded against
 * (26 or 40 MHz crystal) stays accounted for. */
#include "hal.h"
#include "util.h"

#define UART0_CLKDIV (*(volatile uint32_t *)0x60000014)
#define CLKDIV_MASK 0xFFFFFu

void hal_uart_set_baud(uint32_t new_baud, uint32_t old_baud)
{
    if (!new_baud || !old_baud)
        return;
    /* div * old = the UART clock (< 2^27), so the product does not overflow. */
    uint32_t div = UART0_CLKDIV & CLKDIV_MASK;
    UART0_CLKDIV = udiv32(div * old_baud, new_baud, 0) & CLKDIV_MASK;
    hal_delay_us(1000);
}
