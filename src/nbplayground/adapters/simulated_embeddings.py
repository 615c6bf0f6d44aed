"""SimulatedEmbedder: deterministic vectors from hashed character n-grams, labelled simulated.

Texts sharing many trigrams get close vectors, so cosine behaves like a crude lexical
similarity; no model and nothing sent. Scores from it measure spelling, not meaning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from nbplayground.evaluation.ports import Embedded

SIMULATED_EMBEDDING_MODEL = "simulated-trigram-256"
DIMENSIONS = 256


def trigram_vector(text: str, dims: int = DIMENSIONS) -> list[float]:
    """The unit vector of `text`'s character trigrams (lowercased, padded), hashed into `dims`
    buckets with a hash-derived sign (the hashing trick)."""
    import numpy as np

    padded = f"  {' '.join(text.lower().split())} "
    vector = np.zeros(dims, dtype=np.float64)
    for i in range(len(padded) - 2):
        digest = hashlib.blake2b(padded[i:i + 3].encode(), digest_size=8).digest()
        h = int.from_bytes(digest, "little")
        vector[h % dims] += 1.0 if (h >> 63) & 1 else -1.0
    norm = float(np.linalg.norm(vector))
    return (vector / norm).tolist() if norm else vector.tolist()


class SimulatedEmbedder:
    """Provider "simulated": free, offline, deterministic; its model name says what it is."""

    provider = "simulated"
    model = SIMULATED_EMBEDDING_MODEL
    batch_size = 2048

    def __repr__(self) -> str:
        return f"SimulatedEmbedder(model={self.model!r})"

    def embed(self, texts: Sequence[str]) -> Embedded:
        return Embedded([trigram_vector(t) for t in texts],
                        prompt_tokens=sum(len(t.split()) for t in texts))
