"""Reset sequences: DTR/RTS choreographies that put a chip into (or out of) its ROM loader.

A sequence is data: a tuple of steps, each ``("D", bool)`` set DTR, ``("R", bool)`` set RTS,
``("U", (dtr, rts))`` set both at once, or ``("W", seconds)`` wait. The notation of esptool's custom
reset sequences (``D0|R1|W0.1|D1|R0|W0.05|D0``) parses into the same steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from .errors import UsageError

Step = tuple[str, object]

#: seconds between releasing EN and releasing GPIO0 (esptool's ``reset_delay``, PROTOCOL.md 4.1)
RESET_DELAY = 0.05
#: what the "extra delay" variants wait beyond it (PROTOCOL.md 4.3: 550 ms = 50 + 500)
EXTRA_DELAY = 0.5


@dataclass(frozen=True)
class ResetSequence:
    name: str
    steps: tuple[Step, ...]
    #: needs DTR and RTS to change in one step (POSIX TIOCMSET)
    atomic: bool = False
    #: index of the wait before the boot pin (GPIO0) is released, which the reset delay sets; None:
    #: the sequence has none that may change (custom sequences are run as written)
    boot_wait: int | None = None
    #: seconds that wait lasts beyond the reset delay (the "extra delay" variants)
    extra: float = 0.0

    def with_reset_delay(self, delay: float) -> ResetSequence:
        """This sequence with ``delay`` (plus its extra) before the boot pin is released."""
        if self.boot_wait is None:
            return self
        steps = list(self.steps)
        steps[self.boot_wait] = ("W", round(delay + self.extra, 6))
        return replace(self, steps=tuple(steps))

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


def _en_released_with_gpio0_low(steps: tuple[Step, ...]) -> int:
    """Index of the step that lets EN go high while DTR holds GPIO0 low."""
    dtr = rts = False
    for i, (kind, arg) in enumerate(steps):
        was = rts
        if kind == "D":
            dtr = bool(arg)
        elif kind == "R":
            rts = bool(arg)
        elif kind == "U":
            assert isinstance(arg, tuple)
            dtr, rts = bool(arg[0]), bool(arg[1])
        if kind in "RU" and was and not rts and dtr:
            return i
    raise AssertionError(f"EN is never released with GPIO0 low in {steps}")


def _into_loader(name: str, text: str, extra: float = 0.0) -> ResetSequence:
    """A sequence into the ROM loader whose wait after EN is released with GPIO0 held low is the
    reset delay (``extra`` more for the slow variants)."""
    seq = ResetSequence.parse(name, text)
    start = _en_released_with_gpio0_low(seq.steps)
    wait = next(j for j in range(start + 1, len(seq.steps)) if seq.steps[j][0] == "W")
    assert seq.steps[wait] == ("W", round(RESET_DELAY + extra, 6)), name
    return replace(seq, boot_wait=wait, extra=extra)


CLASSIC = _into_loader("classic", "D0|R1|W0.1|D1|R0|W0.05|D0")
CLASSIC_SLOW = _into_loader("classic-550ms", "D0|R1|W0.1|D1|R0|W0.55|D0", EXTRA_DELAY)
TIGHT = _into_loader("unix-tight", "U0,0|U1,1|U0,1|W0.1|U1,0|W0.05|U0,0|D0")
TIGHT_SLOW = _into_loader("unix-tight-550ms", "U0,0|U1,1|U0,1|W0.1|U1,0|W0.55|U0,0|D0", EXTRA_DELAY)
ESP32R0 = _seq("esp32r0", "D0|R1|W0.1|W1.2|D1|R0|W0.4|W0.05|D0")
HARD_RESET = _seq("hard-reset", "R1|W0.1|R0")
