from __future__ import annotations

import pytest

import streamsec.actions as actions
from streamsec.actions.base import register


def test_every_action_is_registered() -> None:
    assert actions.registered_actions() == ["drop", "encrypt", "hash", "keep", "mask", "redact"]
    for name in actions.registered_actions():
        action = actions.get_action(name)
        assert action.name == name


def test_topology_action_names_all_have_an_implementation() -> None:
    from typing import get_args

    from streamsec.topology.model import ActionName

    assert sorted(get_args(ActionName)) == actions.registered_actions()


def test_double_registration_is_refused() -> None:
    from streamsec.actions.keep import KeepAction

    with pytest.raises(ValueError, match="already registered"):
        register("keep", KeepAction)
