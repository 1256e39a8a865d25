"""The contract every protection action implements, and the action registry.

An action is one small module under ``streamsec/actions/`` that registers itself
with :func:`register`, saying which rule parameters it takes and whether it works
inline and as a default; topologies are checked against the registry, so a new
action touches this folder only. ``apply`` protects a whole value of any JSON type;
``apply_span`` protects one entity found inside free text and returns the string
that replaces it in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from streamsec.crypto.aad import Binding
from streamsec.crypto.base import FieldCipher
from streamsec.crypto.plaintext import DEFAULT_PAD
from streamsec.frozen import quick_init
from streamsec.records.paths import JsonValue

__all__ = [
    "Action",
    "ActionContext",
    "ActionOutcome",
    "ActionSpec",
    "action_spec",
    "get_action",
    "register",
    "registered_actions",
]


@quick_init
@dataclass(frozen=True, slots=True)
class ActionContext:
    topology: str
    path: str
    """Schema path of the value (``orders[*].card.number``); part of the associated data."""
    entity_type: str | None
    cipher: FieldCipher
    params: Mapping[str, Any] = field(default_factory=dict)
    """Rule parameters: deterministic, keep_first, keep_last, mask_char, placeholder."""
    subject: str | None = None
    """Data-subject id, when the topology names one (per-subject keys)."""
    category: str | None = None
    """The field's category (PII, PCI...): its KEK under key separation."""
    binding: Binding | None = None
    """What the ciphertext is bound to besides topology and path (subject, record,
    list position: :mod:`streamsec.protection.binding`)."""
    pad_to: int = DEFAULT_PAD
    """Padding bucket in bytes (topology ``encryption.pad_to``)."""


@quick_init
@dataclass(frozen=True, slots=True)
class ActionOutcome:
    value: JsonValue
    key_id: str | None = None
    dropped: bool = False


class Action(Protocol):
    name: ClassVar[str]

    def apply(self, value: JsonValue, ctx: ActionContext) -> ActionOutcome: ...

    def apply_span(self, text: str, ctx: ActionContext) -> ActionOutcome: ...


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What a topology may say about an action (checked when a topology is loaded)."""

    factory: Callable[[], Action]
    params: frozenset[str] = frozenset()
    """The rule parameters it takes (``deterministic``, ``keep_last``, ...)."""
    inline: bool = True
    """Whether it can apply to each entity found inside a text (``inline: true``)."""
    default: bool = True
    """Whether it can be a policy's ``default_action``."""


_REGISTRY: dict[str, ActionSpec] = {}


def register(
    name: str, factory: Callable[[], Action], *, params: Iterable[str] = (),
    inline: bool = True, default: bool = True,
) -> None:
    if name in _REGISTRY:
        raise ValueError(f"action {name!r} is already registered")
    _REGISTRY[name] = ActionSpec(factory, frozenset(params), inline, default)


def action_spec(name: str) -> ActionSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no action named {name!r}; known: {sorted(_REGISTRY)}") from None


def get_action(name: str) -> Action:
    return action_spec(name).factory()


def registered_actions() -> list[str]:
    return sorted(_REGISTRY)
