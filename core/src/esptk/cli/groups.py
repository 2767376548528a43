"""Command groups that accept the older tools' spellings (``burn_efuse``, ``sign_data``, old names)."""

from __future__ import annotations

from typing import Any, ClassVar

from typer.core import TyperGroup


class AliasGroup(TyperGroup):
    """Finds ``a_b`` as ``a-b``, and each name in ``aliases`` as the command it names."""

    aliases: ClassVar[dict[str, str]] = {}

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        name = cmd_name.replace("_", "-")
        return super().get_command(ctx, self.aliases.get(name, name))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd else name), cmd, rest
