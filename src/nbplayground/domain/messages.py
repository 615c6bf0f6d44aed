"""Chat messages: what a prompt becomes before it is sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["system", "developer", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content}

    def wire(self, api: str) -> dict[str, Any]:
        """The message in `api`'s body (text only: the same on both APIs)."""
        return self.as_dict()

    @staticmethod
    def of(data: Mapping[str, Any]) -> Message:
        """A logged message back: with images or content parts when it had them."""
        if "parts" in data:
            from nbplayground.domain.content import PartsMessage

            return PartsMessage.model_validate(data)
        return ImageMessage.model_validate(data) if "images" in data else \
            Message.model_validate(data)


class ImageMessage(Message):
    """A user message with images (data or http URLs), sent as content parts."""

    images: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content, "images": list(self.images)}

    def wire(self, api: str) -> dict[str, Any]:
        if api == "responses":
            parts: list[dict[str, Any]] = [{"type": "input_text", "text": self.content}]
            parts += [{"type": "input_image", "image_url": u} for u in self.images]
        else:
            parts = [{"type": "text", "text": self.content}]
            parts += [{"type": "image_url", "image_url": {"url": u}} for u in self.images]
        return {"role": self.role, "content": parts}


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
