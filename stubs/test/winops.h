/* Raw encodings of windowed-register instructions (the lx106 assembler rejects them), from the
 * instruction formats of the Xtensa ISA reference. Register arguments are plain numbers. */
#define AR_WINDOWBASE 72
#define AR_WINDOWSTART 73

    .macro wsr_raw t, sr
    .byte ((\t) << 4), (\sr), 0x13
    .endm
    .macro entry_raw s, size           /* entry as, size (size a multiple of 8) */
    .byte 0x36, (((((\size) >> 3) & 15) << 4) | (\s)), (((\size) >> 7) & 255)
    .endm
    .macro retw_raw
    .byte 0x90, 0x00, 0x00
    .endm
    .macro callx4_raw s
    .byte 0xD0, (\s), 0x00
    .endm
    .macro callx8_raw s
    .byte 0xE0, (\s), 0x00
    .endm
    .macro callx12_raw s
    .byte 0xF0, (\s), 0x00
    .endm
    .macro l32e_raw t, s, off          /* off in -64..-4 */
    .byte ((\t) << 4), (((((\off) + 64) >> 2) << 4) | (\s)), 0x09
    .endm
    .macro s32e_raw t, s, off
    .byte ((\t) << 4), (((((\off) + 64) >> 2) << 4) | (\s)), 0x49
    .endm
    .macro rfwo_raw
    .byte 0x00, 0x34, 0x00
    .endm
    .macro rfwu_raw
    .byte 0x00, 0x35, 0x00
    .endm
