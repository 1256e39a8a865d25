"""``redact``: replace a value (or an entity inside text) with a placeholder.

``params["placeholder"]`` defaults to ``<{entity}>``; ``{entity}`` becomes the entity
type (``<EMAIL_ADDRESS>``), or ``REDACTED`` when none is known. Any JSON value
becomes the placeholder string.
"""

from __future__ import annotations

from typing import ClassVar, Final

from streamsec.actions.base import ActionContext, ActionOutcome, register
from streamsec.records.paths import JsonValue

__all__ = ["DEFAULT_PLACEHOLDER", "RedactAction", "placeholder_for"]

DEFAULT_PLACEHOLDER: Final = "<{entity}>"


def placeholder_for(ctx: ActionContext) -> str:
    template = ctx.params.get("placeholder") or DEFAULT_PLACEHOLDER
    return str(template).replace("{entity}", ctx.entity_type or "REDACTED")


class RedactAction:
    name: ClassVar[str] = "redact"

    def apply(self, value: JsonValue, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome(value=placeholder_for(ctx))

    def apply_span(self, text: str, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome(value=placeholder_for(ctx))


register(RedactAction.name, RedactAction, params={"placeholder"})
