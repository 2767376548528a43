"""Options that take several values after one flag, as esptool's and espsecure's argparse allows."""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand


class SpreadCommand(TyperCommand):
    """``-k A B C`` means ``-k A -k B -k C`` (espsecure's form) for options that take several values.

    Unlike espsecure, a lone DATAFILE swallowed that way is given back: ``-k KEY DATA`` works
    (``give_back``; off where the positional arguments are optional).
    """

    give_back = True

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        opts = [p for p in self.params if p.param_type_name == "option"]
        takes_value = {o for p in opts if not getattr(p, "is_flag", False) for o in p.opts}
        multi = {o for p in opts if p.multiple for o in p.opts}
        out: list[str] = []
        swallowed: list[int] = []
        positional = 0
        i = 0
        while i < len(args):
            a = args[i]
            if a == "--":
                positional += len(args) - i - 1
                out += args[i:]
                break
            if a in takes_value and i + 1 < len(args):
                out += [a, args[i + 1]]
                i += 2
                while a in multi and i < len(args) and not args[i].startswith("-"):
                    swallowed.append(len(out))
                    out += [a, args[i]]
                    i += 1
                continue
            positional += not a.startswith("-") or a == "-"
            out.append(a)
            i += 1
        if self.give_back and not positional and swallowed:
            j = swallowed[-1]
            value = out[j + 1]
            del out[j : j + 2]
            out.append(value)
        return super().parse_args(ctx, out)


class SpreadAllCommand(SpreadCommand):
    """Like :class:`SpreadCommand`, for commands whose positional arguments may all be absent."""

    give_back = False
