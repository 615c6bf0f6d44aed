"""Where the API key comes from, in a fixed order: argument, OS keyring, OPENAI_API_KEY, key file.

The first source that has a key wins. `Playground(api_key=...)` (or an Endpoint's key) is the
argument; `pg.set_key(key, store="keyring" | "file")` writes one of the stores.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

from nbplayground.accounts.keys import ApiKey

KEY_ORDER = ("argument", "keyring", "env:OPENAI_API_KEY", "file")


class SecretSource(Protocol):
    """One place a key can be read from (and, for stores, written to)."""

    ref: str
    """What the users table records: "keyring", "env:OPENAI_API_KEY", "file:<path>"."""
    slow: bool
    """True when asking costs real time (the OS keyring): existence checks ask it last."""

    def get(self) -> str | None: ...


class SecretStore(SecretSource, Protocol):
    def set(self, key: str) -> None: ...


class EnvSecret:
    """A key in an environment variable (read only: nbplayground never sets the environment)."""

    slow = False

    def __init__(self, name: str = "OPENAI_API_KEY") -> None:
        self.name = name
        self.ref = f"env:{name}"

    def get(self) -> str | None:
        return os.environ.get(self.name) or None


class KeyResolver:
    """Resolves the key from an explicit argument, then each source in the given order."""

    def __init__(self, sources: Sequence[SecretSource]) -> None:
        self.sources = list(sources)

    def resolve(self, explicit: str | ApiKey | None = None) -> ApiKey | None:
        if isinstance(explicit, ApiKey):
            return explicit
        if explicit:
            return ApiKey(explicit, "argument")
        for source in self.sources:
            value = source.get()
            if value and value.strip():
                return ApiKey(value, source.ref)
        return None

    def exists(self, explicit: str | ApiKey | None = None) -> bool:
        """Whether any source has a key; the slow ones are asked only if no fast one has."""
        if explicit:
            return True
        ordered = sorted(self.sources, key=lambda s: s.slow)
        return any((s.get() or "").strip() for s in ordered)

    def describe(self) -> str:
        return ", ".join(["argument", *(s.ref for s in self.sources)])
