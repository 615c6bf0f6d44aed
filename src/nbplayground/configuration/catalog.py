"""Model families: which models exist, their limits, encoding and which request fields they take.

Families are recognised by name, so dated snapshots (gpt-4.1-2025-04-14) and later point
releases (gpt-5.5) are placed without anyone editing a list; a name no family matches runs with
permissive defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from nbplayground.domain.fields import FIELDS, Family


@dataclass(frozen=True)
class ModelSpec:
    name: str
    provider: str = "openai"
    context_window: int = 128_000
    max_output_tokens: int = 16_384
    encoding: str = "o200k_base"
    family: Family = "chat"
    known: bool = True
    """False for a model we know nothing about (a local server's): permissive defaults."""
    description: str = ""
    responses_only: bool = False
    """Served only by the Responses API (o1-pro, o3-pro, gpt-5-pro, the *-codex models)."""

    @property
    def reasoning(self) -> bool:
        return self.family == "reasoning"

    @property
    def accepts(self) -> frozenset[str]:
        return frozenset(f.name for f in FIELDS if self.family in f.families)

    @property
    def max_tokens_name(self) -> str:
        """Reasoning models take max_completion_tokens; the others still take max_tokens."""
        return "max_completion_tokens" if self.reasoning else "max_tokens"


def _spec(family: Family, ctx: int, out: int, enc: str = "o200k_base",
          responses_only: bool = False) -> ModelSpec:
    return ModelSpec("", context_window=ctx, max_output_tokens=out, encoding=enc, family=family,
                     responses_only=responses_only)


_SNAPSHOT = r"(-\d{4}-\d{2}-\d{2}|-\d{4}|-latest|-preview)?"
# First match wins: the more specific patterns come first.
FAMILIES: tuple[tuple[re.Pattern[str], ModelSpec], ...] = tuple(
    (re.compile(p), s) for p, s in (
        (r"^(gpt-5(\.\d+)?|o1|o3)-pro\b", _spec("reasoning", 400_000, 272_000,
                                               responses_only=True)),
        (r"codex", _spec("reasoning", 400_000, 128_000, responses_only=True)),
        (r"^gpt-5(\.\d+)?-chat", _spec("chat", 128_000, 16_384)),
        (r"^gpt-5(\.\d+)?(-|$)", _spec("reasoning", 400_000, 128_000)),
        (r"^o1-mini", _spec("reasoning", 128_000, 65_536)),
        (r"^o1-preview", _spec("reasoning", 128_000, 32_768)),
        (r"^o[134](-|$)", _spec("reasoning", 200_000, 100_000)),
        (r"^gpt-4\.1(-|$)", _spec("chat", 1_047_576, 32_768)),
        (r"^(chatgpt-)?gpt-4o|^chatgpt-4o", _spec("chat", 128_000, 16_384)),
        (r"^gpt-4\.5", _spec("chat", 128_000, 16_384)),
        (r"^gpt-4-turbo", _spec("chat", 128_000, 4_096, enc="cl100k_base")),
        (r"^gpt-4(-\d{4})?" + _SNAPSHOT + "$", _spec("chat", 8_192, 8_192, enc="cl100k_base")),
        (r"^gpt-3\.5-turbo", _spec("chat", 16_385, 4_096, enc="cl100k_base")),
    ))

_NAMED = {
    "gpt-4o-mini": "fast, cheap GPT-4o", "gpt-4o": "", "gpt-4.1": "", "gpt-4.1-mini": "",
    "gpt-4.1-nano": "cheapest GPT-4.1", "gpt-4-turbo": "", "gpt-4": "", "gpt-3.5-turbo": "",
    "gpt-5": "", "gpt-5-mini": "", "gpt-5-nano": "", "o4-mini": "", "o3": "", "o3-mini": "",
    "o1": "",
}


def _family_of(model: str) -> ModelSpec | None:
    for pattern, spec in FAMILIES:
        if pattern.search(model):
            return replace(spec, name=model)
    return None


def lookup(model: str) -> ModelSpec:
    """The spec of a model by its family; a name no family knows gets permissive defaults."""
    if model in CATALOG:
        return CATALOG[model]
    spec = _family_of(model)
    if spec is not None:
        return spec
    return ModelSpec(model, provider="", context_window=1_000_000, max_output_tokens=1_000_000,
                     family="unknown", known=False)


def is_openai_model(model: str) -> bool:
    """A name OpenAI's families recognise (for price_as= and the like)."""
    spec = lookup(model)
    return spec.known and spec.provider == "openai"


CATALOG: dict[str, ModelSpec] = {
    name: replace(spec, description=desc)
    for name, desc in _NAMED.items() if (spec := _family_of(name)) is not None
} | {"smollm2": ModelSpec("smollm2", provider="local", context_window=8_192,
                          max_output_tokens=8_192, family="local",
                          description="SmolLM2-135M-Instruct in the kernel (llama.cpp)")}
"""The models listed by name (the simulated provider's list, the panel's first choices)."""


DEFAULT_MODEL = {"openai": "gpt-4o-mini", "local": "smollm2", "simulated": "gpt-4o-mini"}
"""The model a provider runs when none is named."""
