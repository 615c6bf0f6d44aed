"""Conversation templates: the turns of a saved prompt (roles and content templates, media
parts among them) and placeholders for a whole conversation held in a variable."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any, get_args

from nbplayground.domain.content import normalize_part
from nbplayground.domain.messages import Role

__all__ = ["normalize_turns", "turn_fields", "turn_lines", "turn_texts", "turns_text"]

ROLES: tuple[str, ...] = get_args(Role)
_TEMPLATED = ("text", "url", "data", "file_data", "file_url", "file_id")


def _content(raw: Any, where: str, role: str) -> str | list[dict[str, Any]]:
    if isinstance(raw, str):
        return raw
    parts = raw if isinstance(raw, list) else [raw]
    if not parts:
        raise ValueError(f"{where}: the content is an empty list; give text or parts")
    out = [normalize_part(p, f"{where}[{i}]" if isinstance(raw, list) else where)
           for i, p in enumerate(parts)]
    if role == "assistant" and any(p["type"] != "text" for p in out):
        raise ValueError(f"{where}: an assistant turn is text only (images, audio and files "
                         "go in user turns)")
    if len(out) == 1 and out[0]["type"] == "text":
        return str(out[0]["text"])
    return out


def normalize_turns(raw: Any, where: str = "messages") -> tuple[dict[str, Any], ...]:
    """Turns as {"role", "content": text | [parts]} or {"placeholder": variable} (the whole
    conversation in that variable goes there); ValueError names the turn at fault."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError(f"{where} must be a non-empty list of {{'role', 'content'}} turns")
    out: list[dict[str, Any]] = []
    for i, turn in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(turn, Mapping):
            raise ValueError(f"{at}: a turn is a dict {{'role', 'content'}}, not "
                             f"{type(turn).__name__}")
        if "placeholder" in turn:
            name = turn["placeholder"]
            if not isinstance(name, str) or not re.fullmatch(r"[^\s{}:!]+", name):
                raise ValueError(f"{at}: a placeholder names the variable holding a "
                                 f"conversation, e.g. {{'placeholder': 'history'}}, not {name!r}")
            out.append({"placeholder": name})
            continue
        role = turn.get("role")
        if role not in ROLES:
            raise ValueError(f"{at}.role must be one of {', '.join(ROLES)}, not {role!r}")
        if "content" not in turn:
            raise ValueError(f"{at}: the turn has no content")
        out.append({"role": role, "content": _content(turn["content"], f"{at}.content", role)})
    if not any("placeholder" in t or t["role"] == "user" for t in out):
        raise ValueError(f"{where} has no user turn (nor a placeholder for a conversation)")
    return tuple(out)


def turn_texts(turns: tuple[dict[str, Any], ...]) -> list[str]:
    """Every template string of the turns (texts, image URLs, audio data, files)."""
    out: list[str] = []
    for t in turns:
        content = t.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out += [p[k] for p in content for k in _TEMPLATED if k in p]
    return out


def turn_fields(turns: tuple[dict[str, Any], ...]) -> list[str]:
    """The variables the turns read: {fields} of their templates and their placeholders."""
    names: list[str] = []
    for t in turns:
        if "placeholder" in t:
            names.append(t["placeholder"])
    for text in turn_texts(turns):
        names += [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    return names


def turns_text(turns: tuple[dict[str, Any], ...]) -> str:
    """The text of the last user turn: what a version's `template` shows for its turns."""
    for t in reversed(turns):
        if t.get("role") == "user":
            c = t["content"]
            return str(c) if isinstance(c, str) else "\n".join(
                p["text"] for p in c if p["type"] == "text")
    name: str = next(t["placeholder"] for t in turns if "placeholder" in t)
    return "{" + name + "}"


def turn_lines(turns: tuple[dict[str, Any], ...]) -> list[str]:
    """The turns as lines for a diff: "role: text", "  [image] url", "{placeholder}"."""
    lines: list[str] = []
    for t in turns:
        if "placeholder" in t:
            lines.append(f"[conversation from {{{t['placeholder']}}}]")
            continue
        c = t["content"]
        parts = [{"type": "text", "text": c}] if isinstance(c, str) else c
        lines.append(f"{t['role']}:")
        for p in parts:
            if p["type"] == "text":
                lines += ["  " + line for line in (p["text"].splitlines() or [""])]
            else:
                what = p.get("url") or p.get("file_id") or p.get("filename") or \
                    f"{p.get('format', '')} {len(p.get('data', p.get('file_data', '')))} chars"
                lines.append(f"  [{p['type']}] {what}")
    return lines
