"""The loopback stub's ``POST /v1/embeddings``: deterministic vectors, OpenAI's response shape.

A text's vector is its words hashed into ``DIMENSIONS`` buckets (unit length), so texts sharing
words are close and the same text always gets the same vector. ``usage.prompt_tokens`` counts
words, like the chat stub. ``encoding_format: "base64"`` (the SDK's default) answers each
vector as little-endian float32 bytes in base64. The stub's pending faults (``fail_next``:
429 with retry-after, 500) and ``fail_every`` apply here as they do to chat completions.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Callable
from typing import Any

PATH = "/v1/embeddings"
DIMENSIONS = 64


def vector(text: str) -> list[float]:
    buckets = [0.0] * DIMENSIONS
    for word in text.lower().split():
        h = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        buckets[h % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(x * x for x in buckets)) or 1.0
    return [x / norm for x in buckets]


def serve(stub: Any, record: Any, body: Any, reply: Callable[..., None]) -> None:
    """Answer one embeddings request (the stub's _handle calls this for PATH)."""
    from tests.support.openai_stub import _default_fault_body, error_body

    if not isinstance(body, dict) or "model" not in body or "input" not in body:
        missing = "model" if not isinstance(body, dict) or "model" not in body else "input"
        return reply(400, error_body(f"Missing required parameter: '{missing}'.",
                                     "invalid_request_error", "missing_required_parameter",
                                     missing))
    faults = stub._take_faults(False)
    if fail := faults.get("fail"):
        payload = _default_fault_body(fail.status) if fail.body is None else fail.body
        return reply(fail.status, payload, fail.headers)
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    if not texts or any(not isinstance(t, str) or not t for t in texts):
        return reply(400, error_body("'$.input' is invalid: texts must be non-empty strings.",
                                     "invalid_request_error", None, "input"))
    b64 = body.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(texts):
        v = vector(text)
        emb: Any = base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if b64 else v
        data.append({"object": "embedding", "index": i, "embedding": emb})
    tokens = sum(len(t.split()) for t in texts)
    stub._book_tokens(record, tokens)
    return reply(200, {"object": "list", "data": data, "model": body["model"],
                       "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
