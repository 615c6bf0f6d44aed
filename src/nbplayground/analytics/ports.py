"""Ports of the analytics context: counting tokens and pricing them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from nbplayground.domain.messages import Message


class Tokenizer(Protocol):
    def count_text(self, text: str, model: str) -> int:
        """Tokens of plain text in the encoding of `model` (o200k_base when unknown)."""
        ...

    def count_messages(self, messages: Sequence[Message], model: str) -> int:
        """Prompt tokens of a chat request as the API bills them (chat-format overhead included)."""
        ...


class PriceTable(Protocol):
    def price(self, model: str, prompt_tokens: int, completion_tokens: int,
              cached_tokens: int = 0, at: datetime | None = None) -> float | None:
        """USD for that usage of an OpenAI model at date `at`; None when the model has no price."""
        ...
