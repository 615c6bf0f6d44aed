"""A Cell: one prepared, validated request of a run or a sweep, with its cache key."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from nbplayground.domain import ChatRequest
from nbplayground.domain.prompts import PromptVersion
from nbplayground.domain.tool_turns import is_tool_turn
from nbplayground.errors import InvalidInput


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
    parse_as: Any = None
    """The pydantic class a structured answer is parsed into (None: a dict, or no parsing)."""
    functions: tuple[tuple[str, Callable[..., Any]], ...] = ()
    """The user's functions the model may call, by tool name (never part of the key)."""
    max_tool_rounds: int = 0
    """0: tool calls are recorded, not run; n: up to n rounds of calling and answering."""
    images: tuple[Any, ...] = ()
    """The images of the prompt (configuration.images.Image), bytes included."""
    via: Literal["sync", "batch"] = "sync"
    """"batch": sent in an OpenAI Batch API file (never part of the key: the same answer)."""
    flex_fallback: bool = False
    """service_tier="flex" refused for want of capacity (429): send it again at the default."""
    prompt_name: str | None = None
    """The saved prompt (and version) the cell was made from: logged with its row."""
    prompt_version: int | None = None

    @property
    def tier(self) -> str | None:
        """The rate it is priced at: "batch", or the service_tier it asks for (None: standard)."""
        return "batch" if self.via == "batch" else self.request.parameters.service_tier

    @property
    def prompt_tags(self) -> dict[str, Any]:
        return {"prompt_name": self.prompt_name, "prompt_version": self.prompt_version}

    def from_prompt(self, source: PromptVersion | None) -> Cell:
        """This cell as made from saved prompt version `source` (None: from a plain string)."""
        if source is None:
            return self
        return dataclasses.replace(self, prompt_name=source.name, prompt_version=source.version)

    @cached_property
    def cache_key(self) -> str:
        """Same provider, endpoint, body and repeat → same key; repeats are distinct entries."""
        return _hashed(_canonical(self._keyed(self.request.body())))

    def _keyed(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"provider": self.provider, "base_url": self.base_url or "", "body": body,
                "repeat": self.request.repeat}

    def key_around_turns(self) -> tuple[str, str] | None:
        """The text the cache key hashes, before and after the request's turns: a cell that
        differs from this one only in its turns (a judge's call about another answer) is
        keyed by `keyed_with_turns` without its whole body built and dumped again. None when
        the turns are not one value of the body."""
        body, where = self.request.body(), self.request.turns_key
        if body.get(where) != self.request.turns():
            return None
        body[where] = _TURNS
        text, marker = _canonical(self._keyed(body)), _canonical(_TURNS)
        if text.count(marker) != 1:
            return None
        before, after = text.split(marker)
        return before, after

    def keyed_with_turns(self, around: tuple[str, str]) -> Cell:
        """This cell with its cache key made from `around` (of a cell like it) and its turns:
        the very key cache_key would compute."""
        self.__dict__["cache_key"] = _hashed(
            around[0] + _canonical(self.request.turns()) + around[1])
        return self

    def in_sweep(self, sweep_id: str) -> Cell:
        """This cell as part of sweep `sweep_id`; its cache key does not depend on the sweep, so
        a key already computed (to name the sweep) is kept, not hashed again."""
        return self._keeping_key(sweep_id=sweep_id)

    def sent_via(self, via: Literal["sync", "batch"]) -> Cell:
        """This cell sent synchronously or in a batch: the same request, the same key."""
        return self if via == self.via else self._keeping_key(via=via)

    def _keeping_key(self, **changes: Any) -> Cell:
        cell = dataclasses.replace(self, **changes)
        if "cache_key" in self.__dict__:
            cell.__dict__["cache_key"] = self.__dict__["cache_key"]
        return cell


_TURNS = "\x00turns\x00"
"""Stands for the turns in a body's key text (no prompt holds a NUL: validate_prompt)."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _hashed(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def validate_prompt(prompt: Any) -> None:
    texts: list[Any]
    if isinstance(prompt, str):
        texts = [prompt]
    elif isinstance(prompt, list | tuple) and prompt:
        # Tool turns (calls and results, any API's spelling) are read when the messages are.
        texts = [m.get("content") if isinstance(m, Mapping) else getattr(m, "content", None)
                 for m in prompt if not (isinstance(m, Mapping) and is_tool_turn(m))]
    else:
        raise InvalidInput(
            f"prompt must be a string or a non-empty list of {{'role', 'content'}} messages, "
            f"not {type(prompt).__name__}")
    # A list is content parts (text, images, audio, files), read when the messages are built.
    texts = [t for c in texts for t in ([p.get("text") if isinstance(p, Mapping) else p
                                         for p in c] if isinstance(c, list | tuple) else [c])
             if not (isinstance(c, list | tuple) and t is None)]
    for text in texts:
        if not isinstance(text, str):
            raise InvalidInput(f"a message's content must be a string, not {text!r}")
        if "\x00" in text:
            raise InvalidInput("the prompt contains a NUL byte (\\x00); remove it")
    if isinstance(prompt, str) and not prompt.strip():
        raise InvalidInput("the prompt is empty; type something for the model to answer")
