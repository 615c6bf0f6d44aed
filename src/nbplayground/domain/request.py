"""What goes to a provider and what comes back: ChatRequest, ChatResult and APIRequest records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nbplayground.domain.fields import BY_NAME, Api
from nbplayground.domain.messages import Message
from nbplayground.domain.parameters import ModelParameters
from nbplayground.domain.wire import SHAPES
from nbplayground.ids import new_id


class ChatRequest(BaseModel):
    """One request as the provider will receive it, on Chat Completions or the Responses API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    messages: tuple[Message, ...]
    parameters: ModelParameters = ModelParameters()
    repeat: int = 0
    """Which repeat of an identical request this is; part of the cache key, never sent."""
    stream: bool = False
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    """Reasoning models take max_completion_tokens on Chat Completions."""
    api: Api = "chat"
    """Which endpoint: /v1/chat/completions or /v1/responses."""
    continuation: tuple[dict[str, Any], ...] = ()
    """Wire items after the messages: the model's tool calls and their results, in this API's
    own shapes (domain/wire.py), for the next round of a tool loop."""

    @property
    def path(self) -> str:
        return "/responses" if self.api == "responses" else "/chat/completions"

    @property
    def turns_key(self) -> str:
        """Where body() puts the conversation (turns())."""
        return "input" if self.api == "responses" else "messages"

    def turns(self) -> list[dict[str, Any]]:
        """The conversation as the body sends it: the messages, then the continuation."""
        return [item for m in self.messages for item in m.wire_items(self.api)] + [
            dict(c) for c in self.continuation]

    def body(self) -> dict[str, Any]:
        """The JSON body of the request, exactly: model, the conversation, then the fields sent
        at the places the field table gives for this API."""
        out: dict[str, Any] = {"model": self.model, self.turns_key: self.turns()}
        for name, value in self.parameters.sent().items():
            f = BY_NAME[name]
            where = f.path(self.api)
            if where is None:
                continue
            if f.shape is not None:
                where, value = SHAPES[f.shape](value, self.api)
            elif self.api == "chat" and where == ("max_tokens",):
                where = (self.max_tokens_field,)
            place = out
            for key in where[:-1]:
                place = place.setdefault(key, {})
            place[where[-1]] = value
        return out


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
    reasoning_tokens: int = 0
    """Output tokens spent reasoning (part of completion_tokens, billed as output)."""
    refusal: str | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    """The function calls the model asked for: {"id", "name", "arguments"} (arguments as the
    JSON text the model wrote; "id" is what a tool result answers), on either API."""
    logprobs: tuple[dict[str, Any], ...] | None = None
    """Per answer token when asked for: {"token", "logprob", "top_logprobs": [{"token",
    "logprob"}]}; None when the request did not ask (or the server sent none)."""
    usage_estimated: bool = False
    response_model: str | None = None
    status_code: int | None = 200
    request_id: str | None = None
    latency_ms: float = 0.0
    rate_limit: dict[str, str] = Field(default_factory=dict)
    """The x-ratelimit-* headers of the answer, for client-side throttling."""
    service_tier: str | None = None
    """The tier that answered when it is not the one asked for (a flex request sent again at
    the default tier); priced at it."""
