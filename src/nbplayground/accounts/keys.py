"""API-key hygiene: fingerprints for display and scrubbing of any text that might hold a key."""

from __future__ import annotations

import hashlib
import re

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
