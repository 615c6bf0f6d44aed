"""The catalog of known chat models: context window, output limit, encoding, accepted parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

SAMPLING = frozenset(
    {"temperature", "max_tokens", "top_p", "frequency_penalty", "presence_penalty", "stop", "seed"}
)
REASONING = frozenset({"max_tokens", "seed", "reasoning_effort"})


@dataclass(frozen=True)
class ModelSpec:
    name: str
    provider: str = "openai"
    context_window: int = 128_000
    max_output_tokens: int = 16_384
    encoding: str = "o200k_base"
    reasoning: bool = False
    accepts: frozenset[str] = field(default=SAMPLING)
    known: bool = True
    """False for a model we know nothing about (a local server's): permissive defaults."""
    description: str = ""

    @property
    def max_tokens_name(self) -> str:
        """Reasoning models take max_completion_tokens; the others still take max_tokens."""
        return "max_completion_tokens" if self.reasoning else "max_tokens"


def _chat(name: str, ctx: int, out: int, enc: str = "o200k_base", desc: str = "") -> ModelSpec:
    return ModelSpec(name, context_window=ctx, max_output_tokens=out, encoding=enc,
                     description=desc)


def _reasoning(name: str, ctx: int, out: int, desc: str = "") -> ModelSpec:
    return ModelSpec(name, context_window=ctx, max_output_tokens=out, reasoning=True,
                     accepts=REASONING, description=desc)


CATALOG: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        _chat("gpt-4o-mini", 128_000, 16_384, desc="fast, cheap GPT-4o"),
        _chat("gpt-4o", 128_000, 16_384),
        _chat("gpt-4.1", 1_047_576, 32_768),
        _chat("gpt-4.1-mini", 1_047_576, 32_768),
        _chat("gpt-4.1-nano", 1_047_576, 32_768, desc="cheapest GPT-4.1"),
        _chat("gpt-4-turbo", 128_000, 4_096, enc="cl100k_base"),
        _chat("gpt-4", 8_192, 8_192, enc="cl100k_base"),
        _chat("gpt-3.5-turbo", 16_385, 4_096, enc="cl100k_base"),
        _reasoning("gpt-5", 400_000, 128_000),
        _reasoning("gpt-5-mini", 400_000, 128_000),
        _reasoning("gpt-5-nano", 400_000, 128_000),
        _reasoning("o4-mini", 200_000, 100_000),
        _reasoning("o3", 200_000, 100_000),
        _reasoning("o3-mini", 200_000, 100_000),
        _reasoning("o1", 200_000, 100_000),
        ModelSpec("smollm2", provider="local", context_window=8_192, max_output_tokens=8_192,
                  description="SmolLM2-135M-Instruct in the kernel (llama.cpp)"),
    )
}


DEFAULT_MODEL = {"openai": "gpt-4o-mini", "local": "smollm2", "simulated": "gpt-4o-mini"}
"""The model a provider runs when none is named."""


def lookup(model: str) -> ModelSpec:
    """The spec of a model; dated snapshots ("gpt-4o-2024-08-06") fall back to their family."""
    if model in CATALOG:
        return CATALOG[model]
    family = max((n for n in CATALOG if model.startswith(n + "-")), key=len, default=None)
    if family is not None:
        base = CATALOG[family]
        return ModelSpec(model, base.provider, base.context_window, base.max_output_tokens,
                         base.encoding, base.reasoning, base.accepts, True, base.description)
    return ModelSpec(model, provider="", context_window=1_000_000, max_output_tokens=1_000_000,
                     known=False)
