/* win_call(fn, a, b, c, d, e, f): call a windowed-ABI function (the ESP32 ROM) from call0 code.
 *
 * call0 passes fn in a2, a..e in a3..a7 and f on the stack. The callee sees our a8..a15 as its
 * a0..a7 after CALLX8, so arguments go to a10..a15 and the result comes back in a10. The callee
 * clobbers a8..a15; a12..a15 are callee-saved in call0 and are restored here. If the callee's
 * frames overflow onto ours, the overflow handler reads [sp - 12] as our caller's stack pointer
 * and stores our a4..a7 at that pointer - 32: point it at a scratch area inside our own frame.
 * The lx106 assembler knows no windowed instructions, so CALLX8 is written as its encoding. */
    .section .text.win_call, "ax"
    .literal_position
    .align 4
    .global win_call
    .type win_call, @function
win_call:
    l32i a8, a1, 0          /* sixth argument, from the caller's outgoing area */
    addi a1, a1, -64
    s32i a0, a1, 0
    s32i a12, a1, 4
    s32i a13, a1, 8
    s32i a14, a1, 12
    s32i a15, a1, 16
    addi a9, a1, 64         /* pretend caller sp: its spill area a1+32..a1+47 is ours */
    addi a0, a1, -16
    s32i a9, a0, 4          /* [sp - 12] */
    mov a15, a8
    mov a10, a3
    mov a11, a4
    mov a12, a5
    mov a13, a6
    mov a14, a7
    mov a8, a2
    .byte 0xE0, 0x08, 0x00  /* callx8 a8 */
    mov a2, a10
    l32i a0, a1, 0
    l32i a12, a1, 4
    l32i a13, a1, 8
    l32i a14, a1, 12
    l32i a15, a1, 16
    addi a1, a1, 64
    ret
    .size win_call, . - win_call
