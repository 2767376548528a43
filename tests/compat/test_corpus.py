"""Real build-system command lines (tests/compat/corpus.txt, sources named there) run through the `esptool`
entry point of esptk-esptool-compat and through the real esptool 5.6, each on the virtual chip.

A line is expected to succeed on both tools (exit 0), leave the same bytes in flash, leave in flash what it
asked for, write the same output files and print the same facts; or, where corpus.txt marks it
``refused``, to be refused by both with the same exit code and the flash untouched. The exit codes are
compared exactly either way. ``test_corpus_counts`` prints what the corpus shows, per source."""

from __future__ import annotations

import random
import re
import shlex
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..peer.conftest import Server, start_server
from .conftest import CompatEnv

pytest.importorskip("esptool", reason="the corpus is compared with the real esptool 5.6")
pytestmark = [pytest.mark.slow, pytest.mark.peer]

CORPUS = Path(__file__).with_name("corpus.txt")
FLASH_ARGS = "--flash_mode dio --flash_freq 40m --flash_size 2MB\n0x1000 bootloader/bootloader.bin\n" \
             "0x10000 hello_world.bin\n0x8000 partition_table/partition-table.bin\n"
MARKER = 0x100000  #: a sector that erase_flash must clear
FILLER = 0x5A  #: what the flash ranges a line touches hold before it runs
SECTOR = 0x1000
WRITE = {"write_flash", "write-flash"}
READ = {"read_flash", "read-flash"}
ERASE_ALL = {"erase_flash", "erase-flash"}
ERASE_REGION = {"erase_region", "erase-region"}
VERIFY = {"verify_flash", "verify-flash"}
INFO = {"flash_id", "flash-id", "read_mac", "read-mac", "chip_id", "chip-id"}
COMMANDS = WRITE | READ | ERASE_ALL | ERASE_REGION | VERIFY | INFO | {"merge_bin", "merge-bin"}
#: the sizes of real build products that sit between two others on a command line (the partition table
#: 0xC00 bytes, otadata 0x2000; esp_init_data_default.bin 128 bytes)
PRODUCT_SIZES = {"partition": 3072, "boot_app0": 8192, "ota_data": 8192, "esp_init_data": 128}
ESP32_BOOTLOADER = 24000  #: an ESP-IDF / Arduino second-stage bootloader: 20-26 KB at 0x1000


@dataclass
class Line:
    index: int
    source: str
    where: str
    chip: str
    args: list[str]
    #: why both tools refuse the line (None: both must run it), and text both must print then
    refused: str | None = None
    says: str | None = None

    @property
    def command(self) -> str | None:
        return next((a for a in self.args if a in COMMANDS), None)

    @property
    def id(self) -> str:
        return f"{self.index:02d}-{self.source.split()[0]}"


def load() -> list[Line]:
    lines: list[Line] = []
    for raw in CORPUS.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        source, where, chip, args, *marks = (p.strip() for p in raw.split("|"))
        keyed = {k: v for k, _, v in (m.partition(": ") for m in marks)}
        assert set(keyed) <= {"refused", "says"}, f"unknown field in corpus line: {raw}"
        words = [Path(w).name if w.startswith(("/", "~")) else w for w in shlex.split(args)]
        lines.append(Line(len(lines), source, where, chip, words, keyed.get("refused"), keyed.get("says")))
    return lines


LINES = load()
#: esptool 5.6 refuses write_flash --verify (it always verifies; esptool <= 4 accepted the option): esptk
#: accepts it on purpose, so these lines are compared with esptool 5.6 running them without --verify
VERIFY_LINES = [ln for ln in LINES if ln.command in WRITE and "--verify" in ln.args]
SAME_LINES = [ln for ln in LINES if ln not in VERIFY_LINES]
RUN_LINES = [ln for ln in SAME_LINES if ln.refused is None]  #: both tools must run these
REFUSED_LINES = [ln for ln in SAME_LINES if ln.refused is not None]


def image(chip: str, size: int, seed: int) -> bytes:
    """A well-formed firmware image (header that flash-parameter patching reads, one segment, checksum)."""
    rnd = random.Random(seed)
    body = bytearray(rnd.choice(b"\x00\x01\x02\x03\x20\x40\xff") for _ in range(size - size % 4))
    # byte 23 of the file is 0: esptool 5.6 takes a 1 there as "SHA-256 appended" even in ESP8266 images
    # and then fails (AttributeError) while patching flash parameters
    body[7] = 0
    head = bytes([0xE9, 1, 0x02, 0x20]) + (0x40080000).to_bytes(4, "little")
    if chip == "esp32":  # extended header: no SHA-256 appended, any revision
        head += bytes([0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0])
    data = head + (0x3FFB0000).to_bytes(4, "little") + len(body).to_bytes(4, "little") + body
    checksum = 0xEF
    for b in body:
        checksum ^= b
    data = bytes(data)
    data += bytes(15 - len(data) % 16)
    return data + bytes([checksum])


IMAGE_OVERHEAD = 64  #: bytes image() adds to the body at most (header, segment header, padding, checksum)


def payload(size: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(4) for _ in range(16)]
    return b"".join(rnd.choice(words) if rnd.random() < 0.7 else rnd.randbytes(4) for _ in range(size // 4))


def pairs(line: Line) -> list[tuple[int, str]]:
    """(address, file) pairs of the command line (after expanding @flash_args)."""
    words: list[str] = []
    for w in line.args:
        words += shlex.split(FLASH_ARGS) if w == "@flash_args" else [w]
    out = []
    for a, b in zip(words, words[1:]):
        try:
            addr = int(a, 0)
        except ValueError:
            continue
        if "." in b or "/" in b:
            out.append((addr, b))
    return out


def boot_address(chip: str) -> int:
    return 0x1000 if chip == "esp32" else 0x0


def room(line: Line, addr: int) -> int | None:
    """Bytes a file at ``addr`` may take: up to the sector of the next address on the line (both tools
    refuse files that share a sector), None after the last one."""
    nxt = min((a for a, _ in pairs(line) if a > addr), default=None)
    return None if nxt is None else (nxt & ~(SECTOR - 1)) - addr


def file_content(line: Line, i: int, addr: int, name: str) -> bytes:
    """Deterministic content of the line's ``i``-th file, sized like the build product it stands for and
    never running into the next file on the line."""
    seed = zlib.crc32(name.encode())
    space = room(line, addr)
    if addr == boot_address(line.chip):  # an image: its header is what flash-parameter patching reads
        size = (ESP32_BOOTLOADER if line.chip == "esp32" else 6000) + 37 * i
        if space is not None:
            size = min(size, space - IMAGE_OVERHEAD)
        data = image(line.chip, size, seed)
    else:
        size = next((v for k, v in PRODUCT_SIZES.items() if k in name), 12288 + 4096 * i)
        if space is not None:
            size = min(size, space)
        data = payload(size - size % 4, seed)
    assert space is None or len(data) <= space, f"{name} ({len(data)} bytes) would run into the next file"
    return data


def make_files(line: Line, work: Path) -> None:
    (work / "flash_args").write_text(FLASH_ARGS)
    for i, (addr, name) in enumerate(pairs(line)):
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file_content(line, i, addr, name))


def readback(server: Server, ranges: list[tuple[int, int]], work: Path, tag: str) -> list[bytes]:
    out = []
    for addr, size in ranges:
        f = work / f"rb-{tag}-{addr:x}.bin"
        server.esptool("read-flash", hex(addr), hex(size), str(f))
        out.append(f.read_bytes())
    return out


def ranges_of(line: Line, work: Path) -> list[tuple[int, int]]:
    cmd = line.command
    if cmd in ERASE_ALL:
        return [(MARKER, SECTOR)]
    if cmd in ERASE_REGION:
        i = line.args.index(cmd)
        return [(int(line.args[i + 1], 0), min(int(line.args[i + 2], 0), 0x4000))]
    out = []
    for addr, name in pairs(line):
        size = (work / name).stat().st_size
        out.append((addr, (size + SECTOR - 1) & ~(SECTOR - 1)))
    return out


def prepare(server: Server, line: Line, work: Path, ranges: list[tuple[int, int]]) -> None:
    """The same starting flash for both tools: written marker/old content where the command changes flash."""
    filler = work / "filler.bin"
    for addr, size in ranges:
        filler.write_bytes(bytes([FILLER]) * size)
        server.esptool("write-flash", hex(addr), str(filler))
    if line.command in VERIFY:
        for addr, name in pairs(line):
            server.esptool("write-flash", hex(addr), str(work / name))


def outputs(line: Line, work: Path) -> dict[str, bytes]:
    names = []
    if line.command in READ:
        names.append(line.args[-1])
    if "-o" in line.args:
        names.append(line.args[line.args.index("-o") + 1])
    return {n: (work / n).read_bytes() for n in names if (work / n).exists()}


def not_as_asked(line: Line, work: Path, ranges: list[tuple[int, int]], flash: list[bytes]) -> list[str]:
    """Where the flash does not hold what the (successful) line asked for; [] where it does or where the
    command does not change flash."""
    bad = []
    if line.command in WRITE:
        for (addr, name), got in zip(pairs(line), flash, strict=True):
            data = (work / name).read_bytes()
            head = 4 if addr == boot_address(line.chip) and data[:1] == b"\xe9" else 0
            # bytes 2 and 3 of a boot image: the flash mode/size/frequency the line set (compared between
            # the tools, not here)
            if got[:2] != data[:2] or got[head:len(data)] != data[head:]:
                bad.append(f"{name} at {addr:#x}")
    elif line.command in ERASE_ALL | ERASE_REGION:
        bad += [f"{addr:#x}+{size:#x} not erased" for (addr, size), got in zip(ranges, flash, strict=True)
                if got != b"\xff" * size]
    return bad


FACT = re.compile(r"^\s*(MAC|Chip ID|Manufacturer|Device|Detected flash size):\s*(\S+)", re.M)


def facts(text: str) -> list[str]:
    """What an information command reports (MAC, chip ID, flash ID, flash size), spacing ignored."""
    return sorted({f"{k}: {v}" for k, v in FACT.findall(text)})


@dataclass
class Outcome:
    rc: int
    flash: list[bytes]
    files: dict[str, bytes]
    text: str  #: stdout + stderr
    log: str  #: the tail of both, for failure messages
    not_as_asked: list[str] = field(default_factory=list)
    untouched: bool = False  #: every range the line names still holds the filler


@dataclass
class Run:
    line: Line
    peer: Outcome
    ours: Outcome

    @property
    def log(self) -> str:
        return f"line {self.line.id}: {shlex.join(self.line.args)}\n{self.peer.log}\n{self.ours.log}"

    @property
    def both_ran(self) -> bool:
        return self.peer.rc == 0 and self.ours.rc == 0

    @property
    def same(self) -> bool:
        """The same exit code, flash, output files and (information commands) facts."""
        p, o = self.peer, self.ours
        return (p.rc == o.rc and p.flash == o.flash and p.files == o.files
                and (self.line.command not in INFO or facts(p.text) == facts(o.text)))


def peer_args(line: Line) -> list[str]:
    """The line as esptool 5.6 is given it: without the --verify it refuses (verification is implied)."""
    return [a for a in line.args if not (a == "--verify" and line in VERIFY_LINES)]


def run_both(compat: CompatEnv, server: Server, line: Line, tmp: Path) -> Run:
    results: list[Outcome] = []
    for tool in ("esptool", "esptk"):
        work = tmp / tool
        work.mkdir()
        make_files(line, work)
        # merge_bin touches no flash
        ranges = ranges_of(line, work) if line.command not in ("merge_bin", "merge-bin") else []
        prepare(server, line, work, ranges)
        args = [a.replace("{port}", server.endpoint) for a in (peer_args(line) if tool == "esptool" else line.args)]
        if tool == "esptool":
            r = subprocess.run([sys.executable, "-m", "esptool", *args], capture_output=True, text=True,
                               timeout=300, cwd=work, stdin=subprocess.DEVNULL)
        else:
            r = compat.run("esptool", *args, cwd=work, timeout=300)
        flash = readback(server, ranges, work, tool)
        results.append(Outcome(
            r.returncode, flash, outputs(line, work), r.stdout + r.stderr,
            f"--- {tool} exited {r.returncode}:\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}",
            not_as_asked(line, work, ranges, flash) if r.returncode == 0 else [],
            all(got == bytes([FILLER]) * size for (_, size), got in zip(ranges, flash, strict=True))))
    return Run(line, *results)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    started = {c: start_server(c, "tcp", tmp_path_factory.mktemp(c) / "flash.bin") for c in ("esp32", "esp8266")}
    yield started
    for s in started.values():
        s.stop()


RunFn = Callable[[Line], Run]


@pytest.fixture(scope="module")
def corpus_run(compat: CompatEnv, servers: dict[str, Server], tmp_path_factory: pytest.TempPathFactory) -> RunFn:
    """run(line): both tools on the line, once per module (the per-line tests and the counts share it)."""
    done: dict[int, Run] = {}

    def run(line: Line) -> Run:
        if line.index not in done:
            tmp = tmp_path_factory.mktemp(f"line{line.index:02d}")
            done[line.index] = run_both(compat, servers[line.chip], line, tmp)
        return done[line.index]

    return run


def ids(lines: list[Line]) -> list[str]:
    return [ln.id for ln in lines]


@pytest.mark.parametrize("line", RUN_LINES, ids=ids(RUN_LINES))
def test_same_flash_bytes_as_esptool(corpus_run: RunFn, line: Line) -> None:
    run = corpus_run(line)
    assert run.peer.rc == 0, f"esptool 5.6 did not run the line:\n{run.log}"
    assert run.ours.rc == 0, f"esptk did not run the line:\n{run.log}"
    assert not run.peer.not_as_asked and not run.ours.not_as_asked, (run.peer.not_as_asked, run.ours.not_as_asked)
    assert run.ours.flash == run.peer.flash, "flash differs after the command"
    assert run.ours.files == run.peer.files, "output files differ"
    if line.command in READ or "-o" in line.args:
        assert run.ours.files, "no output file"
    if line.command in INFO:
        assert facts(run.peer.text) and facts(run.ours.text) == facts(run.peer.text), run.log


@pytest.mark.parametrize("line", REFUSED_LINES, ids=ids(REFUSED_LINES))
def test_refused_by_both_like_esptool(corpus_run: RunFn, line: Line) -> None:
    """Lines corpus.txt marks ``refused`` (with the reason there): both tools refuse them with the same
    exit code, say why, and leave the flash as it was."""
    run = corpus_run(line)
    assert run.peer.rc != 0, f"esptool 5.6 ran a line marked refused ({line.refused}):\n{run.log}"
    assert run.ours.rc == run.peer.rc, run.log
    assert line.says and line.says in run.peer.text and line.says in run.ours.text, run.log
    assert run.peer.untouched and run.ours.untouched, "a refused line changed the flash"
    assert "Traceback" not in run.ours.text


def test_the_corpus_holds_a_verify_line() -> None:
    """The deliberate difference below is exercised by a real line, not by one made up."""
    assert VERIFY_LINES and len(SAME_LINES) + len(VERIFY_LINES) == len(LINES)
    assert all(ln.refused is None for ln in VERIFY_LINES)


@pytest.mark.parametrize("line", VERIFY_LINES, ids=ids(VERIFY_LINES))
def test_write_flash_verify_accepted_on_purpose(corpus_run: RunFn, servers: dict[str, Server], line: Line,
                                               tmp_path: Path) -> None:
    """A deliberate difference: esptool 5.6 refuses ``write_flash --verify`` (it verifies every write and
    dropped the option); esptk under esptool's name accepts it, writes the bytes esptool 5.6 writes for
    the line without it, and says that the option is implied."""
    server = servers[line.chip]
    refused = subprocess.run([sys.executable, "-m", "esptool", *(a.replace("{port}", server.endpoint)
                                                                 for a in line.args)],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--verify" in refused.stdout + refused.stderr
    run = corpus_run(line)
    assert run.peer.rc == 0 and run.ours.rc == 0, run.log
    assert not run.peer.not_as_asked and not run.ours.not_as_asked
    assert run.ours.flash == run.peer.flash, "flash differs after the command"
    assert "--verify is implied" in run.ours.text, run.ours.text
    assert "Hash of data verified." in run.ours.text


def count(runs: list[Run]) -> tuple[dict[str, Counter[str]], str]:
    """Per source: lines, run and matched esptool 5.6, refused by both, the --verify difference."""
    by: dict[str, Counter[str]] = {}
    for run in runs:
        c = by.setdefault(run.line.source, Counter())
        c["lines"] += 1
        ok = run.both_ran and run.same and not run.peer.not_as_asked and not run.ours.not_as_asked
        if run.line in VERIFY_LINES:
            c["verify"] += ok
        elif run.line.refused is not None:
            c["refused"] += (run.peer.rc != 0 and run.same and run.peer.untouched and run.ours.untouched)
        else:
            c["matched"] += ok
    total: Counter[str] = Counter()
    for c in by.values():
        total.update(c)
    head = f"{'source':22} {'lines':>5} {'flash+match':>11} {'both refuse':>11} {'--verify':>8}"
    rows = [f"{s:22} {c['lines']:5} {c['matched']:11} {c['refused']:11} {c['verify']:8}"
            for s, c in {**by, "total": total}.items()]
    return {**by, "total": total}, "\n".join(["", head, *rows])


def test_corpus_counts(corpus_run: RunFn, capsys: pytest.CaptureFixture[str]) -> None:
    """The closing count: how many corpus lines flash (or read, erase, merge, report) and match esptool
    5.6, how many both refuse, and the deliberate --verify difference. Lines the per-line tests above ran
    are not run again."""
    runs = [corpus_run(ln) for ln in LINES]
    by, table = count(runs)
    with capsys.disabled():
        print(table)
    total = by["total"]
    assert total["lines"] == len(LINES) >= 57, table
    assert total["matched"] == len(RUN_LINES) >= 52, table  # every line expected to run, on both tools
    assert total["refused"] == len(REFUSED_LINES) == 4, table  # 32m (two lines), 32m-c1, no command
    assert total["verify"] == len(VERIFY_LINES) == 1, table  # line 23, MicroPython
    for run in runs:  # exit codes agree exactly on every line but the --verify one
        assert run.line in VERIFY_LINES or run.peer.rc == run.ours.rc, run.log
