/* Start-up: mask interrupts, (windowed cores) drop the caller's register windows, set the stack,
 * zero .bss and call stub_main. Works however the loader jumps here: it never returns. */
    .section .text.start, "ax"
    .literal_position
    .align 4
    .global stub_entry
    .type stub_entry, @function
stub_entry:
#ifdef STUB_WINDOWED
    /* WINDOWSTART = 1 << WINDOWBASE: forget every live frame but the current one. The lx106
     * assembler has no windowed registers, so these are raw encodings (RSR/WSR, SR 72 and 73). */
    .byte 0x20, 0x48, 0x03      /* rsr a2, WINDOWBASE */
    ssl a2
    movi a3, 1
    sll a3, a3
    .byte 0x30, 0x49, 0x13      /* wsr a3, WINDOWSTART */
    rsync
    movi a2, 0x4002F            /* PS: WOE=1 (ROM calls), UM=1, EXCM=0, INTLEVEL=15 */
#else
    movi a2, 0x2F               /* PS: UM=1, EXCM=0, INTLEVEL=15 */
#endif
    wsr a2, ps
    rsync
    movi a1, _stack_top
    movi a2, _bss_start
    movi a3, _bss_end
    movi a4, 0
1:  bgeu a2, a3, 2f
    s32i a4, a2, 0
    addi a2, a2, 4
    j 1b
2:  movi a0, 0
    call0 stub_main
3:  j 3b
    .size stub_entry, . - stub_entry
