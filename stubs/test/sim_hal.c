/* HAL for QEMU "-M sim": the UART is semihosting stdin/stdout, the flash a fake NOR chip in sysram
 * (erase sets 0xFF, programming ANDs bits, unaligned access is refused). Test builds only. */
#include "hal.h"
#include "semihost.h"
#include "util.h"

/* Clear of the ESP8266 peripheral addresses (0x600000xx..) a host may poke with READ/WRITE_REG. */
#define FAKE_FLASH ((volatile uint32_t *)0x64000000)
#define FAKE_FLASH_SIZE (4u << 20)
/* Exit codes that tell the host test how the stub left. */
#define EXIT_REBOOT 0x42
#define EXIT_RUN_USER_CODE 0x43

#ifdef SIM_ESP32
const uint32_t hal_chip_id = 0x32;
const uint32_t hal_can_encrypt = 1;
#define CHIP_MAGIC 0x00F01D83u
#else
const uint32_t hal_chip_id = 0x8266;
const uint32_t hal_can_encrypt = 0;
#define CHIP_MAGIC 0xFFF0C101u
#endif

/* The test controls these through WRITE_REG / READ_REG (addresses from the ELF's symbols). */
/* Fake UART: with sim_cycles_per_byte set, bytes from stdin reach the 128-byte RX FIFO at that
 * rate (CCOUNT cycles per byte) while the host has some queued, as on a busy serial line; the
 * most the FIFO ever held and the bytes that overflowed it are recorded. */
volatile uint32_t sim_cycles_per_byte;
volatile uint32_t sim_fifo_max;
volatile uint32_t sim_fifo_overflows;
/* Longest time (cycles) between two looks at the FIFO while the line was busy. */
volatile uint32_t sim_gap_max;
/* Fake NOR timing: CCOUNT cycles a started page program / sector erase / block erase stays busy. */
volatile uint32_t sim_program_cycles;
volatile uint32_t sim_erase_cycles;
/* Fake NOR fault: programs into [sim_fail_start, sim_fail_end) leave the flash unchanged. */
volatile uint32_t sim_fail_start, sim_fail_end;
/* Event log: (kind, value, ccount) triples. 'R' bytes received so far by the stub (at every SLIP
 * END byte and every 256th byte), 'P' end
 * address of a program when it completes, 'S' address of an erase when it starts, 'E' its end
 * address when it is seen complete (the core polls busy lazily), 'T' replies/frames sent so far. */
#define LOG_MAX 8192
volatile uint32_t sim_log_len;
#define sim_log ((volatile uint32_t *)0x65000000) /* sysram: read it with READ_REG */

#define FIFO_SIZE 128
#define RX_BUF_SIZE 32768u
#define rx_buf ((uint8_t *)0x65100000) /* sysram */
static uint32_t rx_len, rx_pos, rx_arrived;
static uint32_t line_credit, line_last, model_pending;
static int host_owes; /* a reply went out: the host's next request is due */
volatile uint32_t sim_rx_total, sim_tx_frames; /* bytes received, frames sent */
static uint8_t tx_buf[4096];
static uint32_t tx_len;
/* Readable with READ_REG so tests can see what CHANGE_BAUDRATE and SPI_ATTACH did. */
volatile uint32_t sim_baud = 115200;
volatile uint32_t sim_attach = 0xFFFFFFFFu;

/* Where a host reads the chip's detection value (esptk ChipSpec.magic_reg). */
#define MAGIC_REG (*(volatile uint32_t *)0x40001000)

static inline uint32_t ccount(void)
{
    uint32_t c;
    __asm__ volatile("rsr %0, ccount" : "=a"(c));
    return c;
}

static void log_event(uint32_t kind, uint32_t value)
{
    uint32_t i = sim_log_len;
    if (i >= LOG_MAX)
        return;
    sim_log[i * 3] = kind;
    sim_log[i * 3 + 1] = value;
    sim_log[i * 3 + 2] = ccount();
    sim_log_len = i + 1;
}

void hal_init(void)
{
    MAGIC_REG = CHIP_MAGIC;
    for (uint32_t i = 0; i < FAKE_FLASH_SIZE / 4; i++)
        FAKE_FLASH[i] = 0xFFFFFFFFu;
}

/* Take whatever stdin has into rx_buf, waiting up to tv (seconds, microseconds; 0: for ever). */
static const uint32_t no_wait[2] = {0, 0};
static const uint32_t host_wait[2] = {2, 0};

static void stdin_pull(const uint32_t *tv)
{
    if (rx_pos == rx_len) {
        rx_pos = rx_len = rx_arrived = 0;
    } else if (rx_pos > RX_BUF_SIZE / 2) {
        for (uint32_t i = rx_pos; i < rx_len; i++)
            rx_buf[i - rx_pos] = rx_buf[i];
        rx_len -= rx_pos;
        rx_arrived -= rx_pos;
        rx_pos = 0;
    }
    if (rx_len == RX_BUF_SIZE || sim_select_read(0, tv) <= 0)
        return;
    int32_t n = sim_read(0, rx_buf + rx_len, RX_BUF_SIZE - rx_len);
    if (n <= 0)
        sim_exit(0); /* the host closed the line */
    rx_len += (uint32_t)n;
}

uint32_t hal_uart_rx_ready(void)
{
    uint32_t now = ccount();
    if (rx_arrived == rx_len) {
        line_credit = 0; /* nothing queued: the line is idle */
        line_last = now;
    }
    uint32_t model_cycles = model_pending;
    model_pending = 0;
    /* With the line model on, the host is modelled as answering at once: after a reply, the
     * stub's clock stands still (QEMU -icount) until the host's next bytes are in the pipe, so
     * the host's own scheduling delays do not show as idle line time. */
    if (rx_arrived == rx_len)
        stdin_pull(host_owes && rx_pos == rx_len ? host_wait : no_wait); /* a host syscall: only when needed */
    if (rx_len > rx_arrived)
        host_owes = 0;
    if (!sim_cycles_per_byte) {
        rx_arrived = rx_len;
        line_last = now; /* the model starts afresh when it is switched on */
        line_credit = 0;
        return rx_len - rx_pos; /* no line model: a FIFO as large as the pipe */
    }
    {
        uint32_t rem;
        line_last += model_cycles < now - line_last ? model_cycles : now - line_last;
        if (now - line_last > sim_gap_max)
            sim_gap_max = now - line_last;
        line_credit += now - line_last;
        line_last = now;
        uint32_t n = udiv32(line_credit, sim_cycles_per_byte, &rem);
        if (n >= rx_len - rx_arrived) {
            n = rx_len - rx_arrived;
            rem = 0;
        }
        rx_arrived += n;
        line_credit = rem;
    }
    uint32_t fifo = rx_arrived - rx_pos;
    if (fifo > sim_fifo_max)
        sim_fifo_max = fifo;
    if (fifo > FIFO_SIZE) {
        sim_fifo_overflows += fifo - FIFO_SIZE; /* silicon would have dropped these */
        fifo = FIFO_SIZE;
    }
    return fifo;
}

uint8_t hal_uart_rx_byte(void)
{
    uint8_t c = rx_buf[rx_pos++];
    sim_rx_total++;
    if (c == 0xC0 || !(sim_rx_total & 255)) /* frame boundaries, and progress */
        log_event('R', sim_rx_total);
    return c;
}

void hal_uart_idle(void)
{
    if (rx_pos == rx_len)
        stdin_pull(0);
}

void hal_uart_push(void)
{
    if (tx_len)
        sim_write_all(1, tx_buf, tx_len);
    tx_len = 0;
    log_event('T', ++sim_tx_frames);
    host_owes = sim_cycles_per_byte != 0;
}

void hal_uart_write(const uint8_t *p, uint32_t n)
{
    while (n--) {
        if (tx_len == sizeof tx_buf)
            hal_uart_push();
        tx_buf[tx_len++] = *p++;
    }
}

void hal_uart_drain(void)
{
    hal_uart_push();
}

/* Weak: the stage-1 test build links the ESP8266's real divider code (chips/esp8266/uart_baud.c),
 * which writes UART0_CLKDIV at 0x60000014 (sysram here). */
__attribute__((weak)) void hal_uart_set_baud(uint32_t new_baud, uint32_t old_baud)
{
    (void)old_baud;
    sim_baud = new_baud;
}

static int flash_range_ok(uint32_t addr, uint32_t len)
{
    return !(addr & 3) && !(len & 3) && addr <= FAKE_FLASH_SIZE && len <= FAKE_FLASH_SIZE - addr;
}

int hal_flash_read(uint32_t addr, uint32_t *dst, uint32_t len)
{
    if (!flash_range_ok(addr, len) || ((uintptr_t)dst & 3))
        return 1;
    for (uint32_t i = 0; i < len / 4; i++)
        dst[i] = FAKE_FLASH[addr / 4 + i];
    return 0;
}

/* The operation in progress: it takes effect when its busy time is over. */
static struct {
    uint32_t kind; /* 0 none, 'P' program, 'E' erase */
    uint32_t addr, len, start, cycles;
    uint32_t data[FLASH_PROGRAM_CHUNK / 4];
} op;

static void op_complete(void)
{
    if (op.kind == 'P') {
        int fail = op.addr < sim_fail_end && op.addr + op.len > sim_fail_start;
        for (uint32_t i = 0; i < op.len / 4 && !fail; i++)
            FAKE_FLASH[op.addr / 4 + i] &= op.data[i];
        log_event('P', op.addr + op.len);
    } else if (op.kind == 'E') {
        for (uint32_t i = 0; i < op.len / 4; i++)
            FAKE_FLASH[op.addr / 4 + i] = 0xFFFFFFFFu;
        log_event('E', op.addr + op.len);
    }
    op.kind = 0;
}

int hal_flash_busy(void)
{
    if (op.kind && ccount() - op.start < op.cycles)
        return 1;
    if (op.kind) {
        /* The model's own work (filling an erased block) is no time on silicon: the line
         * clock does not count it. */
        uint32_t t0 = ccount();
        op_complete();
        model_pending += ccount() - t0;
    }
    return 0;
}

/* Like a NOR chip: a command while busy is ignored; the core never sends one. */
static int op_start(uint32_t kind, uint32_t addr, uint32_t len, uint32_t cycles)
{
    if (hal_flash_busy() || !flash_range_ok(addr, len))
        return 1;
    op.kind = kind;
    op.addr = addr;
    op.len = len;
    op.start = ccount();
    op.cycles = cycles;
    return 0;
}

int hal_flash_start_program(uint32_t addr, const uint32_t *src, uint32_t len)
{
    if (len > FLASH_PROGRAM_CHUNK || (addr & ~(FLASH_PAGE - 1)) != ((addr + len - 1) & ~(FLASH_PAGE - 1)) ||
        ((uintptr_t)src & 3) || op_start('P', addr, len, sim_program_cycles))
        return 1;
    for (uint32_t i = 0; i < len / 4; i++)
        op.data[i] = src[i];
    return 0;
}

int hal_flash_start_erase(uint32_t addr, uint32_t size)
{
    if (addr & (size - 1))
        return 1;
    int r = op_start('E', addr, size, size == FLASH_BLOCK ? sim_erase_cycles * 4 : sim_erase_cycles);
    if (!r)
        log_event('S', addr);
    return r;
}

int hal_flash_erase_chip(void)
{
    while (hal_flash_busy())
        ;
    for (uint32_t i = 0; i < FAKE_FLASH_SIZE / 4; i++)
        FAKE_FLASH[i] = 0xFFFFFFFFu;
    return 0;
}

/* A stand-in for the ESP32's engine (the call path is what QEMU can test): each word is XORed
 * with a function of its flash address; like the ROM routine, the source is overwritten with
 * what was written. Counted in sim_encrypted_writes. */
volatile uint32_t sim_encrypted_writes;

int hal_flash_write_encrypted(uint32_t addr, uint32_t *src32)
{
    if (!hal_can_encrypt || (addr & 31) || hal_flash_busy() || !flash_range_ok(addr, 32))
        return 1;
    for (uint32_t i = 0; i < 8; i++) {
        uint32_t a = addr + 4 * i;
        src32[i] ^= (a * 0x9E3779B1u) ^ 0xA5A5A5A5u;
        FAKE_FLASH[a / 4] &= src32[i];
    }
    sim_encrypted_writes++;
    return 0;
}

int hal_flash_unlock(void)
{
    return 0;
}

int hal_flash_attach(uint32_t config)
{
    sim_attach = config;
    return 0;
}

int hal_flash_set_params(const uint32_t *params)
{
    (void)params;
    return 0;
}

void hal_delay_us(uint32_t us)
{
    (void)us;
}

uint32_t hal_reg_read(uint32_t addr)
{
    return *(volatile uint32_t *)addr;
}

void hal_reg_write(uint32_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}

void hal_jump(uint32_t entry)
{
    ((void (*)(void))entry)();
    sim_exit(0x44);
}

void hal_reboot(void)
{
    sim_exit(EXIT_REBOOT);
}

void hal_run_user_code(void)
{
    sim_exit(EXIT_RUN_USER_CODE);
}
