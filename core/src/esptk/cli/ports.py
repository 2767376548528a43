"""``esptk list-ports`` and the port choice when no ``--port`` is given (as esptool does: every
candidate in turn, known ESP bridges first, ``--port-filter`` narrowing them). With several
candidates, the port remembered for the project is used; in a terminal, a person chooses one
and esptk remembers it (:mod:`esptk.portmemory`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from ..errors import EsptkError, UsageError
from . import console
from .state import AppState, registry

if TYPE_CHECKING:
    from ..ports import PortInfo

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.command("list-ports")(list_ports)


def all_ports() -> list[PortInfo]:
    found: list[PortInfo] = []
    for ports in registry().hook.esptk_list_ports():
        found.extend(ports or ())
    return found


def list_ports(ctx: typer.Context,
               as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """List serial ports (known ESP bridges first) with VID/PID, serial number and bridge."""
    from ..ports import candidates, ordered

    st = ctx.find_object(AppState) or AppState()
    ports = ordered([p for p in all_ports() if p.matches(st.port_filter)])
    tried = {p.device for p in candidates(ports, st.port_filter)}
    if as_json or st.json:
        console.out_json({"ports": [{**p.as_dict(), "candidate": p.device in tried} for p in ports]})
        return
    if not ports:
        console.warn("no serial ports found")
    for p in ports:
        note = "" if p.device in tried else "  (not tried without --port)"
        console.out(describe(p) + note)


def describe(p: PortInfo) -> str:
    ids = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None and p.pid is not None else "-"
    return (f"{p.device:<24} {ids:<10} {p.bridge or '-':<20} {p.serial_number or '-':<16} "
            f"{p.manufacturer or p.description or ''}")


def try_ports(st: AppState, connect: Callable[[str], T]) -> T:
    """Without --port: ``connect`` to each candidate in turn; the first that answers wins."""
    from ..ports import candidates

    ports = candidates(all_ports(), st.port_filter)
    if not ports:
        raise UsageError("no serial port found" + (" matching --port-filter" if st.port_filter else ""),
                         hint="connect the board (esptk list-ports shows what is there), or give --port")
    if len(ports) > 1:
        ports = narrow(st, ports)
    last: EsptkError | None = None
    for p in ports:
        if not st.quiet and not st.json:
            console.info(f"Trying {p.device}" + (f" ({p.bridge})" if p.bridge else "") + "...")
        try:
            return connect(p.device)
        except UsageError:
            raise
        except EsptkError as e:
            last = e
    assert last is not None
    raise type(last)(f"no ESP chip answered on {len(ports)} port(s) ({', '.join(p.device for p in ports)}); "
                     f"last: {last.message}",
                     hint="name the board's port with --port (esptk list-ports shows them); " + (last.hint or ""))


def narrow(st: AppState, ports: list[PortInfo]) -> list[PortInfo]:
    """Several candidates: the project's remembered port if it is there; else, in a terminal,
    the one a person chooses (then remembered); else all of them, in order."""
    from .. import portmemory

    saved = portmemory.recall()
    talk = not st.quiet and not st.json
    if saved is not None:
        found = portmemory.find(saved, ports)
        if found is not None:
            if talk:
                console.info(f"Using {found.device}, the port remembered in {portmemory.memory_file()} "
                             "(--port overrides it; delete the file to choose again)")
            return [found]
        if talk:
            console.info(f"The remembered port {saved['device']} is not connected; ignoring "
                         f"{portmemory.memory_file()}")
    if st.json or not interactive():
        return ports
    chosen = ask(ports)
    try:
        path = portmemory.remember(chosen)
    except OSError as e:
        console.warn(f"could not remember the port: {e}")
    else:
        console.info(f"Remembered {chosen.device} for this project in {path}")
    return [chosen]


def interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def ask(ports: list[PortInfo]) -> PortInfo:
    """A numbered list on stderr, the answer from stdin (Enter = the first)."""
    console.info("Several serial ports may hold the board:")
    for i, p in enumerate(ports, 1):
        console.info(f"  {i}) {describe(p)}")
    for _ in range(3):
        sys.stderr.write(f"Which one? [1-{len(ports)}, Enter = 1]: ")
        sys.stderr.flush()
        answer = sys.stdin.readline()
        if not answer:
            break
        answer = answer.strip() or "1"
        if answer.isdigit() and 1 <= int(answer) <= len(ports):
            return ports[int(answer) - 1]
        console.info(f"{answer!r} is not a number from 1 to {len(ports)}")
    raise UsageError("no serial port chosen", hint="answer with a number from the list, or give --port")
