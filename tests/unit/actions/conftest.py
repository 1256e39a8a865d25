from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from streamsec.actions.base import ActionContext
from streamsec.crypto.cipher import KeyringCipher
from streamsec.testing.keys import InMemoryKeyProvider

MakeCtx = Callable[..., ActionContext]


@pytest.fixture
def provider() -> InMemoryKeyProvider:
    return InMemoryKeyProvider()


@pytest.fixture
def make_ctx(provider: InMemoryKeyProvider) -> MakeCtx:
    def _make(
        path: str = "customer.email",
        *,
        topology: str = "orders",
        entity: str | None = "EMAIL_ADDRESS",
        subject: str | None = None,
        **params: Any,
    ) -> ActionContext:
        return ActionContext(
            topology=topology,
            path=path,
            entity_type=entity,
            cipher=KeyringCipher(provider, topology),
            params=params,
            subject=subject,
        )

    return _make
