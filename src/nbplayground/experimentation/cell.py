"""A Cell: one prepared, validated request of a run or a sweep, with its cache key."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

from nbplayground.domain import ChatRequest


@dataclass(frozen=True)
class Cell:
    request: ChatRequest
    provider: str
    base_url: str | None
    user_id: str
    prompt_tokens: int
    """Exact prompt tokens by tiktoken (or the local model's tokenizer), counted before sending."""
    max_completion: int
    """The most the answer can be, for the pre-flight price."""
    sweep_id: str | None = None
    price_as: str | None = None
    index: int = 0

    @cached_property
    def cache_key(self) -> str:
        """Same provider, endpoint, body and repeat → same key; repeats are distinct entries."""
        blob = json.dumps(
            {"provider": self.provider, "base_url": self.base_url or "",
             "body": self.request.body(), "repeat": self.request.repeat},
            sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def in_sweep(self, sweep_id: str) -> Cell:
        """This cell as part of sweep `sweep_id`; its cache key does not depend on the sweep, so
        a key already computed (to name the sweep) is kept, not hashed again."""
        cell = dataclasses.replace(self, sweep_id=sweep_id)
        if "cache_key" in self.__dict__:
            cell.__dict__["cache_key"] = self.__dict__["cache_key"]
        return cell
