"""API-key hygiene: a key wrapper that never prints, fingerprints for display, and scrubbing."""

from __future__ import annotations

import hashlib
import re
from typing import NoReturn

_KEYLIKE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*…\.]{2,}")


def fingerprint(key: str) -> str:
    """A short stable name for a key that gives away none of its characters."""
    return "key#" + hashlib.sha256(key.encode()).hexdigest()[:10]


def scrub(text: str, *secrets: str | None) -> str:
    """Remove every secret, any 8-character piece of one, and anything shaped like a key."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "[key]")
        if len(secret) >= 8:
            for i in range(len(secret) - 7):
                piece = secret[i:i + 8]
                if piece in text:
                    text = text.replace(piece, "[key]")
    return _KEYLIKE.sub("[key]", text)


def check_key(key: object) -> str:
    """The key as given, or InvalidInput saying what is wrong (never quoting the key)."""
    from nbplayground.errors import InvalidInput

    if not isinstance(key, str):
        raise InvalidInput(f"an API key must be a string, not {type(key).__name__}")
    if not key.strip():
        raise InvalidInput("the API key is empty; paste the key from your provider")
    if any(c.isspace() or not c.isprintable() for c in key.strip()):
        raise InvalidInput("the API key contains spaces or control characters; paste it again "
                           "without quotes or line breaks")
    return key.strip()


class ApiKey:
    """A resolved key and where it came from. Its repr, str and pickle never carry the key;
    `reveal()` is the one way to read it, for the adapter that sends it."""

    __slots__ = ("_value", "fingerprint", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = check_key(value)
        self.source = source
        """"argument", "keyring", "env:OPENAI_API_KEY" or "file:<path>"."""
        self.fingerprint = fingerprint(self._value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey(source={self.source!r}, fingerprint={self.fingerprint!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value \
            and other.source == self.source

    def __hash__(self) -> int:
        return hash((self.fingerprint, self.source))

    def __reduce__(self) -> NoReturn:
        raise TypeError("an API key is not pickled or copied into saved state")
