/* Print an exception report on stderr (fd 2) and exit with status 100 + vector number. */
#include "semihost.h"

static void put_hex(char *p, uint32_t v)
{
    static const char digits[16] = "0123456789abcdef";
    for (int i = 7; i >= 0; i--) {
        p[i] = digits[v & 15];
        v >>= 4;
    }
}

void sim_crash(uint32_t vector, uint32_t cause, uint32_t epc, uint32_t vaddr)
{
    static const char tmpl[] = "CRASH cause=........ epc=........ vaddr=........\n";
    static char msg[sizeof tmpl];
    for (uint32_t i = 0; i < sizeof tmpl; i++)
        msg[i] = tmpl[i];
    put_hex(msg + 12, cause);
    put_hex(msg + 25, epc);
    put_hex(msg + 40, vaddr);
    sim_write_all(2, msg, sizeof msg - 1);
    sim_exit((int32_t)(100 + vector));
}
