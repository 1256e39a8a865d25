"""quick_init keeps a frozen, slotted dataclass what it was (same signature, defaults,
factories, keyword-only fields, frozen, equal, hashable, repr, replace, pickle) and
refuses the classes it cannot reproduce; the package's per-record types use it."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest

from streamsec.actions.base import ActionContext, ActionOutcome
from streamsec.classification.model import FieldClassification, Finding
from streamsec.crypto.aad import Binding
from streamsec.detection.normalize import Normalized
from streamsec.frozen import quick_init
from streamsec.pipeline.model import OutMessage, SourceRecord
from streamsec.protection.planner import PlannedStep


def _made(quick: bool) -> Any:
    """The same class twice (fresh fields each time): the dataclass's and quick_init's."""

    @dataclass(frozen=True, slots=True)
    class Made:
        a: int
        b: str = "x"
        c: tuple[int, ...] = field(default_factory=tuple)
        d: dict[str, int] = field(default_factory=dict)
        e: float = field(default=1.5, kw_only=True)

    return quick_init(Made) if quick else Made


_Plain, _Quick = _made(False), _made(True)


@quick_init
@dataclass(frozen=True, slots=True)
class _Hashable:
    a: int
    b: tuple[str, ...] = ()


def _same(quick: object, plain: object) -> None:
    assert dataclasses.astuple(quick) == dataclasses.astuple(plain)  # type: ignore[call-overload]


def test_same_values_for_every_way_of_calling() -> None:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = [
        ((1,), {}),
        ((1, "y"), {}),
        ((1, "y", (2,)), {"d": {"k": 1}}),
        ((), {"a": 3, "e": 2.5}),
        ((4,), {"c": (1, 2), "b": "z", "e": 0.0}),
    ]
    for args, kwargs in calls:
        _same(_Quick(*args, **kwargs), _Plain(*args, **kwargs))


def test_the_signature_and_its_errors_are_the_dataclasss() -> None:
    quick = inspect.signature(_Quick.__init__)
    plain = inspect.signature(_Plain.__init__)
    assert [(p.name, p.kind) for p in quick.parameters.values()] == [
        (p.name, p.kind) for p in plain.parameters.values()
    ]
    for args, kwargs in [((), {}), ((1, "y", (), {}, 2.0), {}), ((1,), {"f": 2}), ((1,), {"a": 1})]:
        with pytest.raises(TypeError):
            _Plain(*args, **kwargs)
        with pytest.raises(TypeError):
            _Quick(*args, **kwargs)


def test_a_default_factory_gives_each_instance_its_own() -> None:
    one, two = _Quick(1), _Quick(2)
    assert one.d == {} and one.d is not two.d


def test_instances_stay_frozen_equal_hashable_and_picklable() -> None:
    value = _Quick(1, "y", (2,), e=3.0)
    with pytest.raises(FrozenInstanceError):
        value.a = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del value.b  # type: ignore[misc]
    assert value == _Quick(1, "y", (2,), e=3.0) != _Quick(1)
    assert repr(value) == repr(_Plain(1, "y", (2,), e=3.0))
    assert dataclasses.replace(value, a=5).a == 5
    assert hash(_Hashable(1, ("x",))) == hash(_Hashable(1, ("x",)))
    assert {_Hashable(1), _Hashable(1), _Hashable(2)} == {_Hashable(1), _Hashable(2)}
    assert pickle.loads(pickle.dumps(Binding("s", "r", "p"))) == Binding("s", "r", "p")


def test_it_refuses_what_it_cannot_reproduce() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class Hidden:
        a: int
        b: int = field(default=0, init=False)

    for cls in (NoSlots, NotFrozen, PostInit, Hidden):
        with pytest.raises(TypeError):
            quick_init(cls)


@pytest.mark.parametrize(
    "cls",
    [ActionContext, ActionOutcome, Finding, FieldClassification, Binding, Normalized,
     OutMessage, SourceRecord, PlannedStep],
)
def test_the_per_record_types_use_it(cls: type) -> None:
    assert "_set0" in cls.__init__.__code__.co_names
    names = [f.name for f in dataclasses.fields(cls)]
    assert list(inspect.signature(cls).parameters) == names
