/* A tiny windowed "ROM" for QEMU's de212 core: reset code, the window overflow/underflow handlers
 * at VECBASE, windowed functions the stub calls through win_call, and a caller that enters the stub
 * the way a ROM might (CALLX4/8/12 or a plain jump, chosen by a byte read from stdin). */
#include "winops.h"

    .section .vectors, "ax"
    .org 0x00                           /* WindowOverflow4 */
    s32e_raw 0, 5, -16
    s32e_raw 1, 5, -12
    s32e_raw 2, 5, -8
    s32e_raw 3, 5, -4
    rfwo_raw
    .org 0x40                           /* WindowUnderflow4 */
    l32e_raw 0, 5, -16
    l32e_raw 1, 5, -12
    l32e_raw 2, 5, -8
    l32e_raw 3, 5, -4
    rfwu_raw
    .org 0x80                           /* WindowOverflow8 */
    s32e_raw 0, 9, -16
    l32e_raw 0, 1, -12
    s32e_raw 1, 9, -12
    s32e_raw 2, 9, -8
    s32e_raw 3, 9, -4
    s32e_raw 4, 0, -32
    s32e_raw 5, 0, -28
    s32e_raw 6, 0, -24
    s32e_raw 7, 0, -20
    rfwo_raw
    .org 0xC0                           /* WindowUnderflow8 */
    l32e_raw 1, 9, -12
    l32e_raw 0, 9, -16
    l32e_raw 7, 1, -12
    l32e_raw 2, 9, -8
    l32e_raw 4, 7, -32
    l32e_raw 3, 9, -4
    l32e_raw 5, 7, -28
    l32e_raw 6, 7, -24
    l32e_raw 7, 7, -20
    rfwu_raw
    .org 0x100                          /* WindowOverflow12 */
    s32e_raw 0, 13, -16
    l32e_raw 0, 1, -12
    s32e_raw 1, 13, -12
    s32e_raw 2, 13, -8
    s32e_raw 3, 13, -4
    s32e_raw 4, 0, -48
    s32e_raw 5, 0, -44
    s32e_raw 6, 0, -40
    s32e_raw 7, 0, -36
    s32e_raw 8, 0, -32
    s32e_raw 9, 0, -28
    s32e_raw 10, 0, -24
    s32e_raw 11, 0, -20
    rfwo_raw
    .org 0x140                          /* WindowUnderflow12 */
    l32e_raw 1, 13, -12
    l32e_raw 0, 13, -16
    l32e_raw 11, 1, -12
    l32e_raw 2, 13, -8
    l32e_raw 4, 11, -48
    l32e_raw 8, 11, -32
    l32e_raw 3, 13, -4
    l32e_raw 5, 11, -44
    l32e_raw 6, 11, -40
    l32e_raw 7, 11, -36
    l32e_raw 9, 11, -28
    l32e_raw 10, 11, -24
    l32e_raw 11, 11, -20
    rfwu_raw
    /* Any other vector: exit with status 0x40 + slot number. */
    .irp slot, 24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    .org \slot * 16
    movi a2, 1
    movi a3, 0x40 + \slot
    simcall
    .endr

    .section .text.rom, "ax"
    .literal_position
    .align 4
    .global rom_reset
rom_reset:
    movi a0, 0
    wsr_raw 0, AR_WINDOWBASE
    rsync
    movi a0, 1
    wsr_raw 0, AR_WINDOWSTART
    rsync
    movi a0, 0x4002F                    /* WOE=1, UM=1, INTLEVEL=15 */
    wsr a0, ps
    rsync
    movi a1, rom_stack_top
    movi a4, rom_nest
    movi a6, 6                          /* a few live ROM frames below the stub */
    callx4_raw 4
1:  j 1b

    /* rom_nest(n): windowed; recurse n deep, then enter the stub. */
    .align 4
rom_nest:
    entry_raw 1, 48
    beqz a2, 2f
    addi a10, a2, -1
    movi a8, rom_nest
    callx8_raw 8
    retw_raw
2:  movi a2, 3                          /* read one byte from stdin: how to enter the stub */
    movi a3, 0
    movi a4, rom_variant
    movi a5, 1
    simcall
    movi a4, rom_variant
    l32i a4, a4, 0
    movi a8, stub_entry
    movi a12, stub_entry
    movi a5, '4'
    beq a4, a5, 4f
    movi a5, '8'
    beq a4, a5, 8f
    movi a5, 'C'
    beq a4, a5, 12f
    jx a8
4:  callx4_raw 8
    retw_raw
8:  callx8_raw 8
    retw_raw
12: callx12_raw 12
    retw_raw

    /* rom_sum3(a, b, c) and rom_sum6(a..f): windowed leaf functions. */
    .align 4
    .global rom_sum3
rom_sum3:
    entry_raw 1, 32
    add a2, a2, a3
    add a2, a2, a4
    retw_raw

    .align 4
    .global rom_sum6
rom_sum6:
    entry_raw 1, 32
    add a2, a2, a3
    add a2, a2, a4
    add a2, a2, a5
    slli a6, a6, 8
    add a2, a2, a6
    slli a7, a7, 16
    add a2, a2, a7
    retw_raw

    /* rom_recurse(n) = n == 0 ? 0 : rom_recurse(n - 1) + n + 2n + (n ^ 0x55) + (n + 1000) + (n + 7),
     * keeping its terms in a3..a7 across the call so that spills must preserve them. */
    .align 4
    .global rom_recurse
rom_recurse:
    entry_raw 1, 64
    beqz a2, 9f
    addi a3, a2, 7
    mov a4, a2
    slli a5, a2, 1
    movi a6, 0x55
    xor a6, a6, a2
    movi a7, 1000
    add a7, a7, a2
    addi a10, a2, -1
    movi a8, rom_recurse
    callx8_raw 8
    add a2, a10, a3
    add a2, a2, a4
    add a2, a2, a5
    add a2, a2, a6
    add a2, a2, a7
9:  retw_raw

    .section .bss.rom, "aw", @nobits
    .align 16
rom_variant:
    .space 4
    .space 2048
rom_stack_top:
