"""Reset sequences: DTR/RTS choreographies that put a chip into (or out of) its ROM loader.

A sequence is data: a tuple of steps, each ``("D", bool)`` set DTR, ``("R", bool)`` set RTS,
``("U", (dtr, rts))`` set both at once, or ``("W", seconds)`` wait. The notation of esptool's custom
reset sequences (``D0|R1|W0.1|D1|R0|W0.05|D0``) parses into the same steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import UsageError

Step = tuple[str, object]


@dataclass(frozen=True)
class ResetSequence:
    name: str
    steps: tuple[Step, ...]
    #: needs DTR and RTS to change in one step (POSIX TIOCMSET)
    atomic: bool = False

    @classmethod
    def parse(cls, name: str, text: str) -> ResetSequence:
        steps: list[Step] = []
        atomic = False
        for part in filter(None, (p.strip() for p in text.split("|"))):
            kind, arg = part[0].upper(), part[1:]
            try:
                if kind in "DR":
                    steps.append((kind, bool(int(arg))))
                elif kind == "W":
                    steps.append(("W", float(arg)))
                elif kind == "U":
                    d, r = (bool(int(x)) for x in arg.split(","))
                    steps.append(("U", (d, r)))
                    atomic = True
                else:
                    raise ValueError(part)
            except ValueError:
                raise UsageError(
                    f"bad reset step {part!r} in {text!r}",
                    hint="steps are D0/D1, R0/R1, Ux,y or W<seconds>, separated by '|'",
                ) from None
        return cls(name, tuple(steps), atomic)

    def run(
        self,
        set_lines: Callable[[bool | None, bool | None], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for kind, arg in self.steps:
            if kind == "D":
                set_lines(bool(arg), None)
            elif kind == "R":
                set_lines(None, bool(arg))
                # usbser.sys only sends RTS with the next DTR write: repeat DTR (harmless elsewhere)
            elif kind == "U":
                assert isinstance(arg, tuple)
                set_lines(bool(arg[0]), bool(arg[1]))
            elif kind == "W":
                sleep(float(arg))  # type: ignore[arg-type]


def _seq(name: str, text: str) -> ResetSequence:
    return ResetSequence.parse(name, text)


CLASSIC = _seq("classic", "D0|R1|W0.1|D1|R0|W0.05|D0")
CLASSIC_SLOW = _seq("classic-550ms", "D0|R1|W0.1|D1|R0|W0.55|D0")
TIGHT = _seq("unix-tight", "U0,0|U1,1|U0,1|W0.1|U1,0|W0.05|U0,0|D0")
TIGHT_SLOW = _seq("unix-tight-550ms", "U0,0|U1,1|U0,1|W0.1|U1,0|W0.55|U0,0|D0")
ESP32R0 = _seq("esp32r0", "D0|R1|W0.1|W1.2|D1|R0|W0.4|W0.05|D0")
HARD_RESET = _seq("hard-reset", "R1|W0.1|R0")
