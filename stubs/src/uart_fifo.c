/* UART0 through its FIFO, polled (never waiting on the receive side): the same registers on both chips but for the status address
 * (UART0_STATUS_REG, set per chip by build.py). The FIFO is read and written at 0x60000000 on both
 * (the ESP32's AHB alias). */
#include "hal.h"

#define UART0_FIFO (*(volatile uint32_t *)0x60000000)
#define UART0_STATUS (*(volatile uint32_t *)UART0_STATUS_REG)
#define RX_COUNT(s) ((s) & 0xFF)
#define TX_COUNT(s) (((s) >> 16) & 0xFF)
#define TX_FIFO_SIZE 128

uint32_t hal_uart_rx_ready(void)
{
    return RX_COUNT(UART0_STATUS);
}

uint8_t hal_uart_rx_byte(void)
{
    return (uint8_t)UART0_FIFO;
}

void hal_uart_idle(void)
{
}

void hal_uart_write(const uint8_t *p, uint32_t n)
{
    while (n--) {
        while (TX_COUNT(UART0_STATUS) >= TX_FIFO_SIZE - 1)
            rx_poll(); /* acks and the next request keep arriving while a long reply goes out */
        UART0_FIFO = *p++;
    }
}

void hal_uart_push(void)
{
}

void hal_uart_drain(void)
{
    while (TX_COUNT(UART0_STATUS))
        ;
    hal_delay_us(200); /* the last character leaves the shift register */
}
