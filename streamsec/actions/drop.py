"""``drop``: remove the value.

``apply`` returns ``ActionOutcome(value=None, dropped=True)``: the caller removes
the field (a list item becomes ``null``, see ``records.paths.delete_at``).
``apply_span`` removes the entity from the text: it returns an empty replacement
with ``dropped=False``, because the field itself stays.
"""

from __future__ import annotations

from typing import ClassVar

from streamsec.actions.base import ActionContext, ActionOutcome, register
from streamsec.records.paths import JsonValue

__all__ = ["DropAction"]


class DropAction:
    name: ClassVar[str] = "drop"

    def apply(self, value: JsonValue, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome(value=None, dropped=True)

    def apply_span(self, text: str, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome(value="")


register(DropAction.name, DropAction, inline=False, default=False)
