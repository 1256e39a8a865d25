from __future__ import annotations

import pytest

import streamsec.actions as actions
from streamsec.actions.base import register


def test_every_action_is_registered() -> None:
    assert actions.registered_actions() == ["drop", "encrypt", "hash", "keep", "mask", "redact"]
    for name in actions.registered_actions():
        action = actions.get_action(name)
        assert action.name == name


def test_topologies_take_exactly_the_registered_actions() -> None:
    from pydantic import ValidationError

    from streamsec.topology.model import FieldRule, Policy

    for name in actions.registered_actions():
        assert FieldRule(action=name).action == name
    with pytest.raises(ValidationError, match="unknown action 'shred'"):
        FieldRule(action="shred")
    with pytest.raises(ValidationError, match="does not apply"):
        FieldRule(action="hash", keep_last=4)  # parameters come from the registry
    with pytest.raises(ValidationError, match="inline does not apply"):
        FieldRule(action="keep", inline=True)
    with pytest.raises(ValidationError, match="cannot be a default action"):
        Policy(default_action="drop")


def test_a_new_action_is_usable_in_a_topology_by_registering_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streamsec.actions import base
    from streamsec.actions.keep import KeepAction
    from streamsec.topology.model import FieldRule

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    register("tokenize", KeepAction, params={"keep_last"})
    assert FieldRule(action="tokenize", keep_last=2).params == {"keep_last": 2}


def test_double_registration_is_refused() -> None:
    from streamsec.actions.keep import KeepAction

    with pytest.raises(ValueError, match="already registered"):
        register("keep", KeepAction)
