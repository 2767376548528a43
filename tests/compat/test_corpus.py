"""Real build-system command lines (tests/compat/corpus.txt, sources named there) run through the `esptool`
entry point of esptk-esptool-compat and through the real esptool 5.6, each on the virtual chip: both must
leave the same bytes in flash (and write the same output files, and agree on success)."""

from __future__ import annotations

import random
import shlex
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
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
WRITE = {"write_flash", "write-flash"}
READ = {"read_flash", "read-flash"}
ERASE_ALL = {"erase_flash", "erase-flash"}
ERASE_REGION = {"erase_region", "erase-region"}
VERIFY = {"verify_flash", "verify-flash"}
COMMANDS = WRITE | READ | ERASE_ALL | ERASE_REGION | VERIFY | {
    "merge_bin", "merge-bin", "flash_id", "flash-id", "read_mac", "read-mac", "chip_id", "chip-id"}


@dataclass
class Line:
    source: str
    where: str
    chip: str
    args: list[str]

    @property
    def command(self) -> str | None:
        return next((a for a in self.args if a in COMMANDS), None)


def load() -> list[Line]:
    lines = []
    for raw in CORPUS.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        source, where, chip, args = (p.strip() for p in raw.split("|", 3))
        words = [Path(w).name if w.startswith(("/", "~")) else w for w in shlex.split(args)]
        lines.append(Line(source, where, chip, words))
    return lines


LINES = load()
#: esptool 5.6 refuses write_flash --verify (it always verifies; esptool <= 4 accepted the option): esptk
#: accepts it on purpose, so these lines are compared with esptool 5.6 running them without --verify
VERIFY_LINES = [ln for ln in LINES if ln.command in WRITE and "--verify" in ln.args]
SAME_LINES = [ln for ln in LINES if ln not in VERIFY_LINES]


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


def make_files(line: Line, work: Path) -> None:
    (work / "flash_args").write_text(FLASH_ARGS)
    boot = 0x1000 if line.chip == "esp32" else 0x0
    for i, (addr, name) in enumerate(pairs(line)):
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = zlib.crc32(name.encode())
        path.write_bytes(image(line.chip, 6000 + 37 * i, seed) if addr == boot else payload(12288 + 4096 * i, seed))


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    started = {c: start_server(c, "tcp", tmp_path_factory.mktemp(c) / "flash.bin") for c in ("esp32", "esp8266")}
    yield started
    for s in started.values():
        s.stop()


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
        return [(MARKER, 0x1000)]
    if cmd in ERASE_REGION:
        i = line.args.index(cmd)
        return [(int(line.args[i + 1], 0), min(int(line.args[i + 2], 0), 0x4000))]
    out = []
    for addr, name in pairs(line):
        size = (work / name).stat().st_size
        out.append((addr, (size + 0xFFF) & ~0xFFF))
    return out


def prepare(server: Server, line: Line, work: Path, ranges: list[tuple[int, int]]) -> None:
    """The same starting flash for both tools: written marker/old content where the command changes flash."""
    filler = work / "filler.bin"
    for addr, size in ranges:
        filler.write_bytes(bytes([0x5A]) * size)
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


Outcome = tuple[int, list[bytes], dict[str, bytes]]
logs: list[str] = []  #: the last run's output, for failure messages
texts: dict[str, str] = {}  #: the last run's whole stdout + stderr per tool


def peer_args(line: Line) -> list[str]:
    """The line as esptool 5.6 is given it: without the --verify it refuses (verification is implied)."""
    return [a for a in line.args if not (a == "--verify" and line in VERIFY_LINES)]


def run_both(compat: CompatEnv, server: Server, line: Line, tmp: Path) -> list[Outcome]:
    results: list[Outcome] = []
    logs.clear()
    for tool in ("esptool", "esptk"):
        work = tmp / tool
        work.mkdir()
        make_files(line, work)
        ranges = ranges_of(line, work)
        if line.command != "merge_bin":
            prepare(server, line, work, ranges)
        args = [a.replace("{port}", server.endpoint) for a in (peer_args(line) if tool == "esptool" else line.args)]
        if tool == "esptool":
            r = subprocess.run([sys.executable, "-m", "esptool", *args], capture_output=True, text=True,
                               timeout=300, cwd=work, stdin=subprocess.DEVNULL)
        else:
            r = compat.run("esptool", *args, cwd=work, timeout=300)
        flash = readback(server, ranges, work, tool) if line.command != "merge_bin" else []
        results.append((r.returncode, flash, outputs(line, work)))
        logs.append(f"--- {tool} exited {r.returncode}:\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
        texts[tool] = r.stdout + r.stderr
    return results


def ids(lines: list[Line]) -> list[str]:
    return [f"{LINES.index(ln):02d}-{ln.source.split()[0]}" for ln in lines]


@pytest.mark.parametrize("line", SAME_LINES, ids=ids(SAME_LINES))
def test_same_flash_bytes_as_esptool(compat: CompatEnv, servers: dict[str, Server], line: Line,
                                     tmp_path: Path) -> None:
    (peer_rc, peer_flash, peer_out), (our_rc, our_flash, our_out) = run_both(compat, servers[line.chip], line,
                                                                             tmp_path)
    assert (our_rc == 0) == (peer_rc == 0), "\n".join(logs)
    assert our_flash == peer_flash, "flash differs after the command"
    assert our_out == peer_out, "output files differ"


def test_the_corpus_holds_a_verify_line() -> None:
    """The deliberate difference below is exercised by a real line, not by one made up."""
    assert VERIFY_LINES and len(SAME_LINES) + len(VERIFY_LINES) == len(LINES)


@pytest.mark.parametrize("line", VERIFY_LINES, ids=ids(VERIFY_LINES))
def test_write_flash_verify_accepted_on_purpose(compat: CompatEnv, servers: dict[str, Server], line: Line,
                                               tmp_path: Path) -> None:
    """A deliberate difference: esptool 5.6 refuses ``write_flash --verify`` (it verifies every write and
    dropped the option); esptk under esptool's name accepts it, writes the bytes esptool 5.6 writes for
    the line without it, and says that the option is implied."""
    server = servers[line.chip]
    refused = subprocess.run([sys.executable, "-m", "esptool", *(a.replace("{port}", server.endpoint)
                                                                 for a in line.args)],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert refused.returncode != 0 and "--verify" in refused.stdout + refused.stderr
    (peer_rc, peer_flash, _), (our_rc, our_flash, _) = run_both(compat, server, line, tmp_path)
    assert peer_rc == 0 and our_rc == 0, "\n".join(logs)
    assert our_flash == peer_flash, "flash differs after the command"
    assert "--verify is implied" in texts["esptk"], texts["esptk"]
    assert "Hash of data verified." in texts["esptk"]
