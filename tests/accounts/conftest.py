"""Accounts fixtures: an in-memory OS keyring, and a stub whose answers fill max_tokens."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.support.openai_stub import OpenAIStub

LONG_ANSWER = " ".join(f"word{i}" for i in range(200))


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps secrets in a dict."""

    # 0: keyring never discovers it for a chainer by itself; tests install it explicitly.
    priority = 0  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture
def full_stub(stub: OpenAIStub) -> OpenAIStub:
    """Every answer is longer than any max_tokens here, so a call costs its pre-flight maximum
    (up to the few prompt tokens the server counts differently)."""
    stub.reply_with = LONG_ANSWER
    return stub
