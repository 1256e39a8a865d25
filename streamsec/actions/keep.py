"""``keep``: leave the value (or the entity inside text) as it is."""

from __future__ import annotations

from typing import ClassVar

from streamsec.actions.base import ActionContext, ActionOutcome, register
from streamsec.records.paths import JsonValue

__all__ = ["KeepAction"]


class KeepAction:
    name: ClassVar[str] = "keep"

    def apply(self, value: JsonValue, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome(value=value)

    def apply_span(self, text: str, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome(value=text)


register(KeepAction.name, KeepAction, inline=False, default=False)
