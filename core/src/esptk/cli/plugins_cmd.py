"""``esptk plugins``: what is installed and whether it loaded."""

from __future__ import annotations

from typing import Annotated

import typer

from . import console
from .state import AppState, registry


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)


def plugins(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List installed chip and transport plugins and whether they loaded."""
    st = ctx.find_object(AppState)
    reg = registry()
    rows = [r.as_dict() for r in reg.records]
    if as_json or (st is not None and st.json):
        console.out_json({"plugins": rows, "chips": sorted(reg.chips), "transports": sorted(reg.transports)})
    else:
        for r in rows:
            line = f"{r['name']:<10} {r['kind']:<10} {r['distribution'] or '-'} {r['version'] or ''}  {r['status']}"
            if r["error"]:
                line += f": {r['error']}"
            console.out(line)
    if not reg.chips:
        console.warn("no chip plugin is installed: device and image commands need one "
                     "(install a distribution named esptk-<chip>)")
