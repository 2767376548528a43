/* The receiver: two frame buffers filled from the UART FIFO whenever rx_poll() runs, so a frame
 * can arrive while the previous one is still being worked on. */
#ifndef STUB_RX_H
#define STUB_RX_H
#include <stdint.h>
#include "proto.h"

#define RX_HDR 8
/* 8-byte header, payload, slack for padding a data block to a word multiple. */
#define RX_BUF_BYTES (RX_HDR + MAX_PAYLOAD + 8)

void rx_init(void);
/* The oldest complete frame, or 0; *len gets its length or a SLIP_* error. Not removed. */
uint8_t *rx_peek(int32_t *len);
/* Done with the frame rx_peek returned: its buffer takes the next frame. */
void rx_release(void);
#endif
