/* SLIP framing (RFC 1055 with the loader's escapes) over the HAL's UART. */
#include "slip.h"
#include "hal.h"

void slip_dec_init(slip_dec *d, uint8_t *buf, uint32_t max)
{
    d->buf = buf;
    d->max = max;
    d->n = 0;
    d->fault = 0;
    d->in_frame = 0;
    d->esc = 0;
}

int32_t slip_dec_byte(slip_dec *d, uint8_t c)
{
    if (!d->in_frame) {
        if (c == SLIP_END) {
            d->in_frame = 1;
            d->n = 0;
            d->fault = 0;
            d->esc = 0;
        }
        return 0;
    }
    if (d->esc) {
        d->esc = 0;
        if (c == SLIP_ESC_END) {
            c = SLIP_END;
        } else if (c == SLIP_ESC_ESC) {
            c = SLIP_ESC;
        } else {
            d->fault = SLIP_BAD_ESCAPE;
            if (c == SLIP_END) {
                d->in_frame = 0;
                return SLIP_BAD_ESCAPE;
            }
            return 0;
        }
    } else if (c == SLIP_END) {
        if (d->fault) {
            d->in_frame = 0;
            return d->fault;
        }
        if (!d->n)
            return 0; /* empty frame: this END opens the next one */
        d->in_frame = 0;
        return (int32_t)d->n;
    } else if (c == SLIP_ESC) {
        d->esc = 1;
        return 0;
    }
    if (d->n < d->max)
        d->buf[d->n] = c;
    else if (!d->fault)
        d->fault = SLIP_TOO_LONG;
    d->n++;
    return 0;
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
