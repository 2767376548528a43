"""The timing model of the virtual chip: the line, the flash, and how each loader overlaps them.

Two halves switch on separately (sim option ``timing``):

* ``link``: the line clocks 10 bits per byte at the current baud rate in each direction, and each
  transfer is delayed by ``latency_ms`` (a USB bridge's buffering). The baud rate follows
  CHANGE_BAUDRATE on every transport (in-process, TCP, pty).
* ``flash``: the chip spends time on NOR erase/program, inflating, MD5 and starting a stub.

``timing=all`` (or ``1``/``on``) switches both on. ``timing=flash`` leaves the line to whatever
carries the bytes: put an independent link clock in front (``bench/linkclock.py``).

How a loader overlaps receiving with flash work is a property of the loader, not of the line:
:data:`LOADERS` describes each one as its code behaves (see :func:`model_for`).

Sources of the constants
------------------------
* NOR times (``nor.NorTiming``): STUB.md §8 (W25Q32-class part: 4 KiB sector erase typical 45 ms,
  64 KiB block erase 150 ms typical, 256-byte page program about 0.7 ms typical, 3 ms worst case).
  ``CALIBRATED_PAGE_PROGRAM`` replaces the typical page time, see below.
* Calibration: esptool issue #919 (a real ESP32-D0WD-V3 board, esptool 4.6.2, 921600 baud) printed
  "Wrote 1851472 bytes (1063799 compressed) ... in 17.6 seconds" = 842 kbit/s effective. The wire
  alone needs 1063799 × 10 / 921600 = 11.5 s, so that board spent ~6 s more than the line needs:
  with typical datasheet times the esptool-stub model predicts 13.7 s. The page program time is the
  one knob set to match: 1.72 ms per 256-byte page (inside the datasheet's 0.7–3 ms range) makes the
  esptool-stub model write that workload in 17.6 s (``tests/sim/test_timing.py`` recomputes it).
  What really costs the time on a board (the ROM's SPI write routine, the bridge, the part) is not
  known from that figure; only a board can tell.
* Inflate speed of our stub: STUB.md §5 (≈168 lx106 instructions per output byte on firmware-like
  data; ≈0.45 MB/s at 80 MHz). esptool's stubs use a table-driven inflater; no public figure: the
  previous default, 4 MB/s, is kept for them (an assumption; ``inflate_rate=`` overrides both).
* MD5 speed: STUB.md §5 (≈36 instructions per byte → 2.2 MB/s at 80 MHz, 4.4 MB/s at 160 MHz);
  the model uses 4 MB/s for ROMs and stubs.
* Stub start: 54 ms from the MEM_END reply to OHAI (PROTOCOL.md §14, a real ESP8266).
* Overlap per loader: PROTOCOL.md §7.2 (esptool's stubs acknowledge a data block after checking it and
  write it while the next one arrives), §7.3 (READ_FLASH: the legacy stub compares *bytes* in flight,
  so esptool's request for 64 keeps one 4 KiB packet outstanding; the v2 stub always keeps one) — the
  issue text says esptool's stub honours many packets in flight; the fact sheet, which was checked
  against both stubs' sources, says one, and the model follows the fact sheet. Our stub: what
  ``stubs/src/stub.c`` did at protocol 1 (replies after the work, one read packet in flight), and
  what protocol 2 advertises in GET_VERSION (contract A; stubs/src/proto.h: one block in flight,
  8 read packets) and does per stubs/README.md (a page program runs while the next bytes inflate;
  erase ahead while no frame waits), and since the blank check (``stubs/src/flash.c``) erases only
  what does not already read as erased and programs no 64-byte piece of 0xFF; the read rate of that
  check, ``BLANK_READ_RATE``, is an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: seconds per 256-byte page program, calibrated to esptool issue #919 (see the module text)
CALIBRATED_PAGE_PROGRAM = 0.00172
#: bytes per second: inflating in our stub (STUB.md §5) and in esptool's (assumed)
OUR_INFLATE_RATE = 450_000.0
THEIR_INFLATE_RATE = 4_000_000.0
#: bytes per second our stub reads flash to see whether a sector or block is already erased
#: (64-byte ROM reads between UART polls). An assumption, below the MD5 rate (an MD5 reads the flash
#: too): no public figure; only a board can tell.
BLANK_READ_RATE = 2_000_000.0
#: the stub greets about this long after the MEM_END reply (PROTOCOL.md §14)
STUB_START = 0.054
#: what our stub's protocol-2 model advertises (contract A): data blocks and read packets in flight,
#: as stubs/src/proto.h (MAX_IN_FLIGHT, READ_WINDOW) puts them into its GET_VERSION reply; the sim
#: option ``stub_in_flight`` models a stub with more receive buffers.
V2_MAX_IN_FLIGHT = 1
V2_READ_WINDOW = 8

MODES = {"0": (False, False), "off": (False, False), "no": (False, False), "false": (False, False),
         "1": (True, True), "on": (True, True), "yes": (True, True), "true": (True, True), "": (True, True),
         "all": (True, True), "link": (True, False), "flash": (False, True)}


@dataclass(frozen=True)
class Timing:
    """The timing model (off by default: everything happens at once)."""

    link: bool = False  #: line rate and latency
    flash: bool = False  #: erase/program/inflate/MD5 and stub start-up time
    latency: float = 0.0  #: seconds added to every transfer in each direction (USB bridge)
    inflate_rate: float | None = None  #: bytes per second the chip inflates (None: per loader)

    @property
    def enabled(self) -> bool:
        return self.link or self.flash


def parse_mode(text: str) -> tuple[bool, bool] | None:
    """``timing=`` value → (link, flash); None if not a known mode."""
    return MODES.get(text.strip().lower())


@dataclass(frozen=True)
class LoaderModel:
    """How one loader schedules replies against its flash work."""

    name: str
    #: reply to FLASH_DATA/DEFL_DATA once received and checked (work afterwards); else after the work
    ack_on_receipt: bool
    #: errors found while writing come back on a later reply (else on the block's own reply)
    deferred_errors: bool
    #: errors stay on every later data/END/MD5 reply until the next BEGIN (contract A)
    sticky_errors: bool
    #: READ_FLASH packets sent ahead of the host's acks
    read_window: int
    #: data blocks the loader lets the host keep in flight (GET_VERSION v2), 1 = stop-and-wait
    max_in_flight: int
    inflate_rate: float
    #: GET_VERSION reply: None (the loader does not know the command), 1 (16 bytes) or 2 (24 bytes)
    version: int | None
    #: a page program runs while the CPU inflates the next bytes (stubs/README.md, protocol 2)
    inflate_overlaps_program: bool = False
    #: a sector or block that reads as erased is not erased, 64-byte pieces of 0xFF are not
    #: programmed (stubs/src/flash.c: is_blank, all_ones)
    skips_blank: bool = False
    #: while no frame waits it starts the next erase of the region (stubs/src/stub.c: idle)
    erases_when_idle: bool = False


ROM = LoaderModel("rom", False, False, False, 1, 1, THEIR_INFLATE_RATE, None)
ESPTOOL_STUB = LoaderModel("esptool-stub", True, True, False, 1, 1, THEIR_INFLATE_RATE, None)
ESPTK_STUB_V1 = LoaderModel("esptk-stub", False, False, False, 1, 1, OUR_INFLATE_RATE, 1)
ESPTK_STUB_V2 = LoaderModel("esptk-stub", True, True, True, V2_READ_WINDOW, V2_MAX_IN_FLIGHT,
                            OUR_INFLATE_RATE, 2, inflate_overlaps_program=True, skips_blank=True,
                            erases_when_idle=True)


def model_for(loader: str, protocol: int = 1, in_flight: int | None = None) -> LoaderModel:
    """The behaviour of the loader named ``loader`` (contract B names); ``protocol``: our stub's
    version; ``in_flight``: data blocks a protocol-2 stub lets the host keep in flight (None: as built)."""
    if loader == "esptk-stub":
        if protocol < 2:
            return ESPTK_STUB_V1
        return replace(ESPTK_STUB_V2, max_in_flight=in_flight) if in_flight else ESPTK_STUB_V2
    if loader == "rom":
        return ROM
    return ESPTOOL_STUB
