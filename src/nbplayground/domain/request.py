"""What goes to a provider and what comes back: ChatRequest, ChatResult and APIRequest records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nbplayground.domain.messages import Message
from nbplayground.domain.parameters import ModelParameters
from nbplayground.ids import new_id


class ChatRequest(BaseModel):
    """One chat completion as the provider will receive it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    messages: tuple[Message, ...]
    parameters: ModelParameters = ModelParameters()
    repeat: int = 0
    """Which repeat of an identical request this is; part of the cache key, never sent."""
    stream: bool = False
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    """Reasoning models take max_completion_tokens on the wire."""

    def body(self) -> dict[str, Any]:
        """The JSON body of the request, exactly: model, messages, then the parameters sent."""
        params = self.parameters.sent()
        if "max_tokens" in params and self.max_tokens_field != "max_tokens":
            params[self.max_tokens_field] = params.pop("max_tokens")
        return {"model": self.model, "messages": [m.as_dict() for m in self.messages], **params}


class APIRequest(BaseModel):
    """The spec's APIRequest: one attempt at a provider, successful or not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    experiment_id: str = ""
    user_id: str = ""
    model: str = ""
    provider: str = ""
    attempt: int = 0
    status_code: int | None = None
    latency_ms: float = 0.0
    request_id: str | None = None
    error: str | None = None
    retry_after: float | None = None


class ChatResult(BaseModel):
    """A provider's answer with its usage; tokens are the server's unless usage_estimated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    usage_estimated: bool = False
    response_model: str | None = None
    status_code: int | None = 200
    request_id: str | None = None
    latency_ms: float = 0.0
    rate_limit: dict[str, str] = Field(default_factory=dict)
    """The x-ratelimit-* headers of the answer, for client-side throttling."""
