"""The Experiment aggregate: one prompt run against one model with its parameters and metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nbplayground.domain.messages import Message
from nbplayground.domain.metrics import ResponseMetrics
from nbplayground.domain.parameters import ModelParameters
from nbplayground.ids import new_id, utcnow

ExperimentStatus = Literal["ok", "error", "stopped"]


class ToolCall(BaseModel):
    """One call the model made: its arguments, and what the function returned (or raised)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: str | None = None
    error: str | None = None
    round: int = 0


class TokenLogprob(BaseModel):
    """One answer token's log probability and the most likely alternatives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


class ImageRef(BaseModel):
    """An image sent with the prompt: its hash and type (the bytes live in `attachments`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str
    media_type: str


class Experiment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    user_id: str
    model: str
    """The model requested."""
    provider: str
    messages: tuple[Message, ...]
    parameters: ModelParameters
    response: str = ""
    metrics: ResponseMetrics = ResponseMetrics()
    status: ExperimentStatus = "ok"
    error: str | None = None
    error_type: str | None = None
    finish_reason: str | None = None
    response_model: str | None = None
    """The model the response says answered (its `model` field): a compatible server's own
    file, or OpenAI's dated snapshot; None when nothing answered."""
    timestamp: datetime = Field(default_factory=utcnow)
    sweep_id: str | None = None
    repeat: int = 0
    base_url: str | None = None
    cache_key: str | None = None
    cached: bool = False
    request_body: dict[str, Any] = Field(default_factory=dict)
    """The JSON body exactly as sent: code generation reproduces this."""
    parsed: Any = None
    """The answer as JSON when response_format was given (an object of the pydantic class on
    the experiment a run returns; a dict when read back from the log)."""
    tool_calls: tuple[ToolCall, ...] = ()
    token_logprobs: tuple[TokenLogprob, ...] | None = None
    """Per answer token when logprobs=True (the `logprobs` column; exp.logprobs is a frame)."""
    images: tuple[ImageRef, ...] = ()
    refusal: str | None = None
    prompt_name: str | None = None
    """The saved prompt (pg.prompts) this was run from, and its version; None for a string."""
    prompt_version: int | None = None

    @property
    def prompt(self) -> str:
        """The last user message: what a person calls "the prompt"."""
        for m in reversed(self.messages):
            if m.role == "user":
                return m.content
        return ""

    @property
    def system(self) -> str | None:
        for m in self.messages:
            if m.role in ("system", "developer"):
                return m.content
        return None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def truncated(self) -> bool:
        """The answer stopped at max_tokens (finish_reason 'length'), not where it ended."""
        return self.finish_reason == "length"
