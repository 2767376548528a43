"""``esptk list-ports`` and the port choice when no ``--port`` is given (as esptool does: every
candidate in turn, known ESP bridges first, ``--port-filter`` narrowing them)."""

from __future__ import annotations

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
        ids = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None and p.pid is not None else "-"
        note = "" if p.device in tried else "  (not tried without --port)"
        console.out(f"{p.device:<24} {ids:<10} {p.bridge or '-':<20} {p.serial_number or '-':<16} "
                    f"{p.manufacturer or p.description or ''}{note}")


def try_ports(st: AppState, connect: Callable[[str], T]) -> T:
    """Without --port: ``connect`` to each candidate in turn; the first that answers wins."""
    from ..ports import candidates

    ports = candidates(all_ports(), st.port_filter)
    if not ports:
        raise UsageError("no serial port found" + (" matching --port-filter" if st.port_filter else ""),
                         hint="connect the board (esptk list-ports shows what is there), or give --port")
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
