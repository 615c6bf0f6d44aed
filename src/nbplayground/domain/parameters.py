"""ModelParameters: the sampling settings of one request, as sent."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ReasoningEffort = Literal["minimal", "low", "medium", "high"]

PARAMETER_NAMES = (
    "temperature",
    "max_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "seed",
    "reasoning_effort",
)


class ModelParameters(BaseModel):
    """None means "not sent": a reasoning model gets no temperature at all, not a default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    reasoning_effort: ReasoningEffort | None = None

    def sent(self) -> dict[str, Any]:
        """The parameters that go on the wire, by their spec names (None ones left out)."""
        out = self.model_dump(exclude_none=True)
        if "stop" in out:
            out["stop"] = list(out["stop"])
        return out
