"""Random-fault writes to the virtual chip, each judged on the whole flash afterwards.

One case = one seed: chip (ESP8266 or ESP32), loader (stub or ROM), a region and its data, and
line faults (lost, flipped or late bytes, a chip reset or a chip that stops answering). The flash
is filled with random bytes first, so any erase or write outside what the loader announced shows.
A case ends in one of:

- ``ok``: write_flash returned and the region holds the data;
- ``failed``: an EsptkError (one clear message; nothing claimed);
- ``corrupt``: write_flash returned but the region does not hold the data (silent corruption);
- ``outside``: flash outside the announced erase span changed (whatever the result);
- ``internal``: any other exception (a bug).

Run the full campaign: ``python -m tests.faults.campaign --runs 320`` (from the repository root).
The test suite runs a small seeded slice (tests/faults/test_campaign.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import traceback
from collections import Counter
from dataclasses import dataclass, field

from esptk.errors import EsptkError
from esptk.flasher import Region, write_flash
from esptk.flashproto import SECTOR
from esptk.plugins import make_plugin_manager
from esptk.progress import RecordingProgress
from esptk.session import connect

FLASH_SIZE = 1024 * 1024
CHIPS = ("esp8266", "esp32")


@dataclass
class Case:
    seed: int
    chip: str
    stub: bool
    address: int
    data: bytes
    faults: str
    blank: bool = False  #: the region's sectors start erased (the stub's blank check skips their erase)


@dataclass
class Outcome:
    case: Case
    kind: str
    detail: str = ""
    warnings: list[str] = field(default_factory=list)


def make_case(seed: int) -> Case:
    rng = random.Random(seed)
    chip = CHIPS[seed % 2]
    stub = (seed // 2) % 2 == 0
    size = rng.choice((rng.randrange(4, 4096, 4), rng.randrange(4096, 48 * 1024), 32 * 1024))
    address = rng.randrange(0, (FLASH_SIZE - size) // SECTOR) * SECTOR
    raw = rng.randbytes(size)
    data = raw if rng.random() < 0.5 else bytes(b if i % 7 else 0 for i, b in enumerate(raw))
    rx_span = size + 12_000  # stub upload and commands before the data
    tx_span = 600 + size // 40
    kind = rng.choice(("drop", "corrupt", "delay", "reset", "hang", "rates", "rates"))
    if kind == "drop":
        way = rng.choice(("tx", "rx"))
        faults = f"drop_at={rng.randrange(tx_span if way == 'tx' else rx_span)}&fault_dir={way}"
    elif kind == "corrupt":
        faults = f"corrupt_at={rng.randrange(rx_span)}&fault_dir={rng.choice(('tx', 'rx'))}"
    elif kind == "delay":
        faults = f"delay_at={rng.randrange(tx_span)}&delay_ms={rng.choice((500, 3300))}"
    elif kind == "reset":
        faults = f"reset_at={rng.randrange(rx_span)}"
    elif kind == "hang":
        faults = f"hang_at={rng.randrange(rx_span)}"
    else:
        faults = (f"drop_rate={rng.choice((0, 0.00002, 0.0001))}&corrupt_rate={rng.choice((0, 0.00002, 0.0001))}"
                  f"&fault_dir={rng.choice(('tx', 'rx', 'both'))}")
    # a second generator, so that the cases above stay as they were: erased target sectors, and data
    # with whole 64-byte pieces of 0xFF (which esptk's stub does not program)
    more = random.Random(seed ^ 0xB1A4)
    blank = more.random() < 0.4
    if more.random() < 0.4:
        pieces = bytearray(data)
        for at in range(0, len(pieces) - 63, 64):
            if more.random() < 0.3:
                pieces[at:at + 64] = b"\xff" * 64
        data = bytes(pieces)
    return Case(seed, chip, stub, address, data, f"{faults}&seed={seed}", blank)


def allowed_span(case: Case) -> tuple[int, int]:
    """The sectors the write may change: those it covers; on the ESP8266, also the one more sector
    its ROM erases for some counts (PROTOCOL.md 2.5, which esptk announces before writing)."""
    start = case.address - case.address % SECTOR
    end = -(-(case.address + len(case.data)) // SECTOR) * SECTOR
    if case.chip == "esp8266":
        from esptk_esp8266.flash import rom_erase_size

        m = -(-rom_erase_size(start, end - start) // SECTOR)
        first = start // SECTOR
        end = max(end, start + (m + min(16 - first % 16, m)) * SECTOR)
    return start, end - start


def run_case(case: Case) -> Outcome:
    reg = make_plugin_manager()
    background = random.Random(case.seed ^ 0x5A5A).randbytes(FLASH_SIZE)
    url = f"sim://{case.chip}?flash_size=1MB&{case.faults}"
    progress = RecordingProgress()
    flash = None
    result = None
    try:
        from esptk_sim.transport import SimTransport

        t = SimTransport(url, 115200)
        t.open()
        assert t.chip is not None
        flash = t.chip.flash
        flash.data[:] = background
        if case.blank:
            first = case.address - case.address % SECTOR
            last = -(-(case.address + len(case.data)) // SECTOR) * SECTOR
            flash.data[first:last] = b"\xff" * (last - first)
            background = bytes(flash.data)
        s = connect(reg, chip=case.chip, use_stub=case.stub, progress=progress, transport=t,
                    connect_attempts=3)
        try:
            result = write_flash(s, [Region(case.address, case.data)])
        finally:
            t.chip = None  # keep the flash as it is; no reset
    except EsptkError as e:
        kind, detail = "failed", str(e)
    except Exception:  # noqa: BLE001 - that is what the campaign counts
        return Outcome(case, "internal", traceback.format_exc())
    else:
        kind, detail = "ok", result[0].how if result else ""
    assert flash is not None
    warnings = [str(m) for k, m in progress.events if k == "warn"]
    start, length = allowed_span(case)
    after = bytes(flash.data)
    if after[:start] != background[:start] or after[start + length:] != background[start + length:]:
        return Outcome(case, "outside", f"{kind}: flash changed outside 0x{start:x}+0x{length:x}", warnings)
    if kind == "ok" and after[case.address: case.address + len(case.data)] != case.data:
        return Outcome(case, "corrupt", f"reported {detail}; warnings: {warnings}", warnings)
    return Outcome(case, kind, detail, warnings)


def campaign(seeds: range, show: bool = True) -> Counter[str]:
    counts: Counter[str] = Counter()
    for seed in seeds:
        case = make_case(seed)
        out = run_case(case)
        counts[out.kind] += 1
        counts[f"{case.chip}-{'stub' if case.stub else 'rom'}"] += 1
        if show and out.kind in ("corrupt", "outside", "internal"):
            print(f"seed {seed} {case.chip} stub={case.stub} 0x{case.address:x}+{len(case.data)} "
                  f"{case.faults}: {out.kind}\n{out.detail}", file=sys.stderr)
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=320)
    ap.add_argument("--first", type=int, default=0, help="first seed")
    args = ap.parse_args()
    counts = campaign(range(args.first, args.first + args.runs))
    for key in sorted(counts):
        print(f"{key:14} {counts[key]}")
    bad = counts["corrupt"] + counts["outside"] + counts["internal"]
    print(f"silent corruptions {counts['corrupt']}, writes outside the region {counts['outside']}, "
          f"internal errors {counts['internal']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
