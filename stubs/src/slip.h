#ifndef STUB_SLIP_H
#define STUB_SLIP_H
#include <stdint.h>

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD
/* slip_recv result for a frame longer than the buffer (the rest of it is skipped). */
#define SLIP_TOO_LONG (-1)
/* slip_recv result for a bad escape sequence (rest of frame skipped). */
#define SLIP_BAD_ESCAPE (-2)

/* Receive one frame into buf (at most max bytes). Empty frames are skipped. Returns its length. */
int32_t slip_recv(uint8_t *buf, uint32_t max);
void slip_start(void);
void slip_put(const uint8_t *p, uint32_t n);
void slip_end(void);
#endif
