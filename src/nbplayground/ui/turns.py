"""The panel's conversation (earlier turns, the prompt, attached images) as the messages a run
sends, as a saved version's turns, and back from those turns onto the screen."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from nbplayground.configuration.images import load_image
from nbplayground.domain.content import part_wire, texts_of
from nbplayground.domain.conversation import ROLES, normalize_turns
from nbplayground.domain.tool_turns import is_tool_turn
from nbplayground.errors import InvalidInput
from nbplayground.ui.attachments import Attached

# A panel turn is {"role", "content": text} or, with media, {"role", "content": text, "parts":
# [canonical parts]} (a logged PartsMessage's shape); the browser edits `content` only.


def parts_of(turn: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A panel turn's canonical parts (its edited text in place of its text parts), or None
    for a text turn."""
    text = str(turn.get("content") or "")
    if turn.get("images"):  # a logged run's turn with images= (ImageMessage)
        return [{"type": "text", "text": text},
                *({"type": "image", "url": str(u)} for u in turn["images"])]
    parts = [dict(p) for p in turn.get("parts") or () if isinstance(p, Mapping)]
    if not any(p.get("type") != "text" for p in parts):
        return None
    if texts_of(tuple(parts)) == text:
        return parts
    at = next((i for i, p in enumerate(parts) if p["type"] == "text"), len(parts))
    media = [p for p in parts if p["type"] != "text"]
    return [*media[:at], *([{"type": "text", "text": text}] if text else []), *media[at:]]


def _role(turn: Mapping[str, Any]) -> str:
    role = str(turn.get("role", "user"))
    if role not in ROLES:
        raise InvalidInput(f"a turn's role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def request_turns(messages: list[dict[str, Any]], prompt: str) -> Any:
    """The prompt string, or the conversation (earlier turns, then the prompt) as pg.run takes
    it: a turn with media as a list of parts in Chat's spelling."""
    turns: list[dict[str, Any]] = []
    for m in messages:
        if is_tool_turn(m):  # a logged run's tool calls and results, loaded from History
            turns.append(dict(m))
            continue
        role, parts = _role(m), parts_of(m)
        content: Any = str(m.get("content", "")) if parts is None else \
            [part_wire(p, "chat", role) for p in parts]
        turns.append({"role": role, "content": content})
    if not turns:
        return prompt
    if prompt.strip():
        turns.append({"role": "user", "content": prompt})
    return turns


def _data_url(image: bytes) -> str:
    return f"data:{load_image(bytes(image)).media_type};base64," \
        f"{base64.b64encode(bytes(image)).decode()}"


def saved_turns(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What is on screen as a version's turns: the earlier turns, then the prompt with the
    attached images (as data URLs) as the last user turn."""
    turns = [dict(m) if is_tool_turn(m) else {
        "role": _role(m), "content": str(m.get("content", "")) if (p := parts_of(m)) is None
        else p} for m in config["messages"]]
    images = [{"type": "image", "url": _data_url(i)} for i in config.get("images") or ()]
    if images:
        text = [{"type": "text", "text": config["prompt"]}] if config["prompt"].strip() else []
        turns.append({"role": "user", "content": [*text, *images]})
    elif config["prompt"].strip():
        turns.append({"role": "user", "content": config["prompt"]})
    return turns


def same_turns(config: Mapping[str, Any], turns: tuple[dict[str, Any], ...]) -> bool:
    """Whether the screen holds exactly these (normalized) turns."""
    try:
        return list(normalize_turns(saved_turns(config))) == list(turns)
    except (InvalidInput, ValueError):
        return False


def _attachable(content: Any) -> bool:
    """A last user turn the prompt box and its attachments show as they are: text, then images
    given as data URLs (no detail)."""
    if isinstance(content, str):
        return True
    rest = content[1:] if content[0]["type"] == "text" else content
    return all(p["type"] == "image" and str(p["url"]).startswith("data:image/")
               and "detail" not in p for p in rest)


def _ext(url: str) -> str:
    return url.removeprefix("data:image/").split(";", 1)[0].replace("jpeg", "jpg")


def on_screen(turns: tuple[dict[str, Any], ...]
              ) -> tuple[list[dict[str, Any]], str, list[Attached]]:
    """(the panel's earlier turns, its prompt, its attached images) showing these turns."""
    if any("placeholder" in t for t in turns):
        name = next(t["placeholder"] for t in turns if "placeholder" in t)
        raise InvalidInput(f"this version takes a whole conversation from {{{name}}}, which the "
                           f"panel cannot fill; run it with pg.run(version, vars={{{name!r}: "
                           "[...]}})")
    shown = [dict(t) if is_tool_turn(t) else  # calls and results: shown, sent as they are
             {"role": t["role"], "content": t["content"]} if isinstance(t["content"], str)
             else {"role": t["role"], "content": texts_of(tuple(t["content"])),
                   "parts": [dict(p) for p in t["content"]]} for t in turns]
    last = turns[-1] if turns else None
    if last is None or last["role"] != "user" or not _attachable(last["content"]):
        return shown, "", []
    shown.pop()
    content = last["content"]
    if isinstance(content, str):
        return shown, content, []
    images = [Attached(base64.b64decode(p["url"].split(",", 1)[1]), f"image-{i}.{_ext(p['url'])}")
              for i, p in enumerate((p for p in content if p["type"] == "image"), 1)]
    return shown, texts_of(tuple(content)), images
