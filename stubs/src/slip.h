#ifndef STUB_SLIP_H
#define STUB_SLIP_H
#include <stdint.h>

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD
/* Result for a frame longer than the buffer (the rest of it is skipped). */
#define SLIP_TOO_LONG (-1)
/* Result for a bad escape sequence (rest of frame skipped). */
#define SLIP_BAD_ESCAPE (-2)

/* Incremental decoder: bytes go in one at a time, as they leave the UART FIFO. */
typedef struct {
    uint8_t *buf;
    uint32_t max;
    uint32_t n;
    int32_t fault;
    uint8_t in_frame;
    uint8_t esc;
} slip_dec;

void slip_dec_init(slip_dec *d, uint8_t *buf, uint32_t max);
/* 0 while no frame is complete; then the frame's length (>0) or SLIP_TOO_LONG / SLIP_BAD_ESCAPE.
 * Bytes before the first END are noise; empty frames are skipped. */
int32_t slip_dec_byte(slip_dec *d, uint8_t c);
void slip_start(void);
void slip_put(const uint8_t *p, uint32_t n);
void slip_end(void);
#endif
