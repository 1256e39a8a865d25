"""``mask``: hide characters, keeping the length.

Parameters: ``keep_first`` and ``keep_last`` (characters left visible, default 0)
and ``mask_char`` (default ``*``). When ``keep_first + keep_last`` would reveal the
whole value, every character is masked (fail closed). Non-string values are masked
as their JSON text and become strings.
"""

from __future__ import annotations

from typing import ClassVar

from streamsec.actions._text import value_text
from streamsec.actions.base import ActionContext, ActionOutcome, register
from streamsec.errors import ProtectionError
from streamsec.records.paths import JsonValue

__all__ = ["MaskAction", "mask_text"]


def mask_text(text: str, *, keep_first: int = 0, keep_last: int = 0, mask_char: str = "*") -> str:
    if keep_first < 0 or keep_last < 0 or len(mask_char) != 1:
        raise ValueError("keep_first/keep_last must be >= 0 and mask_char one character")
    if keep_first + keep_last >= len(text):
        return mask_char * len(text)
    hidden = len(text) - keep_first - keep_last
    return text[:keep_first] + mask_char * hidden + text[len(text) - keep_last :]


class MaskAction:
    name: ClassVar[str] = "mask"

    def apply(self, value: JsonValue, ctx: ActionContext) -> ActionOutcome:
        return self.apply_span(value_text(value, path=ctx.path), ctx)

    def apply_span(self, text: str, ctx: ActionContext) -> ActionOutcome:
        params = ctx.params
        try:
            masked = mask_text(
                text,
                keep_first=int(params.get("keep_first", 0)),
                keep_last=int(params.get("keep_last", 0)),
                mask_char=str(params.get("mask_char", "*")),
            )
        except (TypeError, ValueError):
            raise ProtectionError("invalid mask parameters", path=ctx.path) from None
        return ActionOutcome(value=masked)


register(MaskAction.name, MaskAction, params={"keep_first", "keep_last", "mask_char"})
