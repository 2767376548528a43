/* Two frame buffers filled from the UART FIFO: one may be in use (its data still being
 * inflated or programmed) while the other receives. When both hold frames, bytes stay in the
 * FIFO; hosts keep within max_in_flight so that this never lasts long enough to overflow it. */
#include "rx.h"
#include "hal.h"
#include "slip.h"

static uint32_t buf_words[2][RX_BUF_BYTES / 4];
static int32_t ready[2]; /* 0: free or filling; else the frame's length or SLIP error */
static uint32_t fill, take;
static slip_dec dec;

void rx_init(void)
{
    slip_dec_init(&dec, (uint8_t *)buf_words[0], RX_BUF_BYTES);
}

void rx_poll(void)
{
    uint32_t n;
    while (!ready[fill] && (n = hal_uart_rx_ready()) != 0) {
        while (n--) {
            int32_t r = slip_dec_byte(&dec, hal_uart_rx_byte());
            if (r) {
                ready[fill] = r;
                fill ^= 1;
                slip_dec_init(&dec, (uint8_t *)buf_words[fill], RX_BUF_BYTES);
                break;
            }
        }
    }
}

uint8_t *rx_peek(int32_t *len)
{
    rx_poll();
    *len = ready[take];
    return ready[take] ? (uint8_t *)buf_words[take] : 0;
}

void rx_release(void)
{
    ready[take] = 0;
    take ^= 1;
    rx_poll();
}
