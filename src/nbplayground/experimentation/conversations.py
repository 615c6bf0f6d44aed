"""Conversation templates filled per row: each turn's templates from vars=, a placeholder
by the conversation its variable holds; the result is the messages a cell sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nbplayground.domain import Message
from nbplayground.domain.content import PartsMessage, normalize_part, texts_of
from nbplayground.domain.conversation import ROLES, turn_fields
from nbplayground.errors import InvalidInput
from nbplayground.evaluation.templates import resolve

_TEMPLATED = ("text", "url", "data", "file_data", "file_url", "file_id")


@dataclass(frozen=True)
class Turns:
    """A saved version's turns as a prompt of the sweep grid (filled per row of vars=)."""

    turns: tuple[dict[str, Any], ...]

    @property
    def fields(self) -> list[str]:
        return turn_fields(self.turns)


def _message(role: str, content: str | list[dict[str, Any]]) -> Message:
    if isinstance(content, str):
        return Message(role=role, content=content)
    if len(content) == 1 and content[0]["type"] == "text":
        return Message(role=role, content=content[0]["text"])
    parts = tuple(content)
    return PartsMessage(role=role, content=texts_of(parts), parts=parts)


def conversation_of(value: Any, name: str) -> list[Message]:
    """The conversation a variable holds (a list of {role, content}, or its JSON text) as
    messages; content may be text or parts in any API's spelling."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(f"{{{name}}} must hold a conversation: a non-empty list of "
                           f"{{'role', 'content'}} messages, not {str(value)[:60]!r}")
    out = []
    for i, m in enumerate(value):
        at = f"{name}[{i}]"
        if not isinstance(m, Mapping) or m.get("role") not in ROLES:
            role = m.get("role") if isinstance(m, Mapping) else None
            raise InvalidInput(f"{at}: a message of the conversation needs a role (one of "
                               f"{', '.join(ROLES)}), not {role!r}; tool messages are not "
                               "supported yet")
        content = m.get("content")
        if content is None:
            raise InvalidInput(f"{at} has no content")
        try:
            parts = [content] if isinstance(content, str | Mapping) else list(content)
            normal = [normalize_part(p, f"{at}.content") for p in parts]
        except (TypeError, ValueError) as e:
            raise InvalidInput(str(e)) from None
        out.append(_message(m["role"], normal))
    return out


def _fill(text: str, row: Mapping[str, Any]) -> str:
    from nbplayground.experimentation.grid import fill

    return fill(text, row)


def render_turns(turns: tuple[dict[str, Any], ...], row: Mapping[str, Any] | None
                 ) -> tuple[Message, ...]:
    """The turns filled from `row` (a vars row; None: no variables), as messages."""
    given = dict(row or {})
    out: list[Message] = []
    for t in turns:
        if "placeholder" in t:
            found, value = resolve(given, t["placeholder"])
            if not found:
                raise InvalidInput(f"the conversation template needs {{{t['placeholder']}}} "
                                   f"(a conversation) but the variables have "
                                   f"{', '.join(map(str, given)) or 'none'} (pass vars=)")
            out += conversation_of(value, t["placeholder"])
            continue
        content = t["content"]
        if isinstance(content, str):
            out.append(_message(t["role"], _fill(content, given)))
            continue
        filled = [{k: _fill(v, given) if k in _TEMPLATED else v for k, v in p.items()}
                  for p in content]
        out.append(_message(t["role"], filled))
    return tuple(out)
