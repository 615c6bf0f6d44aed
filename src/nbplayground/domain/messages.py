"""Chat messages: what a prompt becomes before it is sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["system", "developer", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


def as_messages(
    prompt: str | Iterable[Mapping[str, str] | Message], system: str | None = None
) -> tuple[Message, ...]:
    """A prompt string, or a list of {role, content}, with an optional system message first."""
    out: list[Message] = []
    if system:
        out.append(Message(role="system", content=system))
    if isinstance(prompt, str):
        out.append(Message(role="user", content=prompt))
    else:
        for m in prompt:
            out.append(m if isinstance(m, Message) else Message.model_validate(dict(m)))
    return tuple(out)
