/* SLIP framing (RFC 1055 with the loader's escapes) over the HAL's UART. */
#include "slip.h"
#include "hal.h"

int32_t slip_recv(uint8_t *buf, uint32_t max)
{
    uint32_t n = 0;
    int32_t fault = 0;
    int in_frame = 0;
    for (;;) {
        uint8_t c = hal_uart_getc();
        if (!in_frame) {
            /* Bytes outside a frame are noise. */
            if (c == SLIP_END) {
                in_frame = 1;
                n = 0;
                fault = 0;
            }
            continue;
        }
        if (c == SLIP_END) {
            if (fault)
                return fault;
            if (n)
                return (int32_t)n;
            continue; /* empty frame: this END opens the next one */
        }
        if (c == SLIP_ESC) {
            c = hal_uart_getc();
            if (c == SLIP_ESC_END) {
                c = SLIP_END;
            } else if (c == SLIP_ESC_ESC) {
                c = SLIP_ESC;
            } else {
                fault = SLIP_BAD_ESCAPE;
                if (c == SLIP_END)
                    return fault;
                continue;
            }
        }
        if (n < max)
            buf[n] = c;
        else if (!fault)
            fault = SLIP_TOO_LONG;
        n++;
    }
}

void slip_start(void)
{
    static const uint8_t end = SLIP_END;
    hal_uart_write(&end, 1);
}

void slip_put(const uint8_t *p, uint32_t n)
{
    static const uint8_t esc_end[2] = {SLIP_ESC, SLIP_ESC_END};
    static const uint8_t esc_esc[2] = {SLIP_ESC, SLIP_ESC_ESC};
    uint32_t run = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c != SLIP_END && c != SLIP_ESC)
            continue;
        if (i > run)
            hal_uart_write(p + run, i - run);
        hal_uart_write(c == SLIP_END ? esc_end : esc_esc, 2);
        run = i + 1;
    }
    if (n > run)
        hal_uart_write(p + run, n - run);
}

void slip_end(void)
{
    slip_start();
    hal_uart_push();
}
