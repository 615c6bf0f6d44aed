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

    def wire_items(self, api: str) -> list[dict[str, Any]]:
        """The items of `api`'s body this message is (a Responses function call is several)."""
        return [self.wire(api)]

    @staticmethod
    def of(data: Mapping[str, Any]) -> Message:
        """A logged message back: with images, content parts or tool calls when it had them."""
        if "parts" in data:
            from nbplayground.domain.content import PartsMessage

            return PartsMessage.model_validate(data)
        if "tool_calls" in data or data.get("role") == "tool":
            from nbplayground.domain.tool_turns import tool_message

            return tool_message(data)
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
        joinable = False  # the last message is Responses function_call items
        for i, m in enumerate(prompt):
            item = isinstance(m, Mapping) and m.get("type") == "function_call"
            if isinstance(m, Mapping) and _is_tool(m):
                said = _tool_message(m, f"messages[{i}]")
                last = out[-1] if out else None
                if item and joinable and last is not None:  # one turn's calls, together
                    calls = (*getattr(last, "tool_calls", ()), *getattr(said, "tool_calls", ()))
                    out[-1] = last.model_copy(update={"tool_calls": calls})
                else:
                    out.append(said)
            elif isinstance(m, Message):
                out.append(m)
            elif isinstance(m, Mapping) and isinstance(m.get("content"), list | tuple):
                out.append(_parts_message(m, f"messages[{i}]"))
            else:
                out.append(Message.model_validate(dict(m)))
            joinable = item
    return tuple(out)


def _is_tool(m: Mapping[str, Any]) -> bool:
    from nbplayground.domain.tool_turns import is_tool_turn

    return is_tool_turn(m)


def _tool_message(m: Mapping[str, Any], where: str) -> Message:
    from nbplayground.domain.tool_turns import tool_message, tool_turn

    turn = tool_turn(m, where)
    turn.pop("_item", None)
    return tool_message(turn)


def _parts_message(m: Mapping[str, Any], where: str) -> Message:
    """A turn whose content is a list of parts (any API's spelling) as its message."""
    from nbplayground.domain.content import PartsMessage, texts_of
    from nbplayground.domain.conversation import turn_content

    role = m.get("role")
    content = turn_content(m["content"], f"{where}.content", str(role))
    if isinstance(content, str):
        return Message.model_validate({"role": role, "content": content})
    parts = tuple(content)
    return PartsMessage.model_validate({"role": role, "content": texts_of(parts),
                                        "parts": parts})
