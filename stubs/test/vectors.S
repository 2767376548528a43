/* Exception vectors for QEMU test builds: report the cause and address, then exit non-zero. */
    .section .vectors, "ax"
    .org 0x10
    movi a2, 1          /* debug */
    j crash
    .org 0x20
    movi a2, 2          /* NMI */
    j crash
    .org 0x30
    movi a2, 3          /* kernel */
    j crash
    .org 0x50
    movi a2, 4          /* user */
    j crash
    .org 0x70
    movi a2, 5          /* double */
    j crash
    .align 4
crash_handler_addr:
    .word sim_crash
crash_stack_addr:
    .word _stack_top
crash:
    rsr a3, exccause
    rsr a4, epc1
    rsr a5, excvaddr
    l32r a1, crash_stack_addr
    addi a1, a1, -64
    l32r a0, crash_handler_addr
    callx0 a0
1:  j 1b
