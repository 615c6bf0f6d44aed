"""Content parts of a message (text, image, audio, file) in one canonical form, read from the
spellings of Chat Completions, the Responses API and OpenAI's eval exports, and each API's
wire form; PartsMessage is a message made of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nbplayground.domain.messages import Message

__all__ = ["PartsMessage", "normalize_part", "part_wire", "texts_of"]

_TEXT = ("text", "input_text", "output_text")
_DETAIL = ("auto", "low", "high")
_AUDIO = ("wav", "mp3")
_FILE_KEYS = ("file_data", "file_id", "file_url", "filename")


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be non-empty text, not {value!r}")
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL byte (\\x00); remove it")
    return value


def normalize_part(raw: Any, where: str = "content") -> dict[str, Any]:
    """One content part as {"type": "text" | "image" | "audio" | "file", ...}; ValueError says
    which spelling is expected."""
    if isinstance(raw, str):
        return {"type": "text", "text": raw}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: a content part is text or a dict, not {type(raw).__name__}")
    kind = raw.get("type")
    if kind in _TEXT:
        text = raw.get("text")
        if not isinstance(text, str):
            raise ValueError(f"{where}: a {kind} part needs its text")
        return {"type": "text", "text": text}
    if kind in ("image_url", "input_image", "image"):
        inner = raw.get("image_url", raw.get("url"))
        detail = raw.get("detail")
        if isinstance(inner, Mapping):  # chat: {"image_url": {"url", "detail"}}
            detail, inner = inner.get("detail", detail), inner.get("url")
        out = {"type": "image", "url": _str(inner, f"{where}: the image's URL")}
        if detail is not None:
            if detail not in _DETAIL:
                raise ValueError(f"{where}: detail must be one of {', '.join(_DETAIL)}, not "
                                 f"{detail!r}")
            out["detail"] = detail
        return out
    if kind in ("input_audio", "audio"):
        inner = raw.get("input_audio", raw)
        if not isinstance(inner, Mapping):
            raise ValueError(f"{where}: input_audio is {{'data': base64, 'format': 'wav'}}")
        fmt = inner.get("format")
        if fmt not in _AUDIO:
            raise ValueError(f"{where}: the audio format must be wav or mp3, not {fmt!r}")
        return {"type": "audio", "data": _str(inner.get("data"), f"{where}: the audio data"),
                "format": fmt}
    if kind in ("input_file", "file"):
        inner = raw.get("file", raw) if kind == "file" else raw
        out = {"type": "file"}
        out.update({k: _str(inner[k], f"{where}: {k}") for k in _FILE_KEYS
                    if isinstance(inner, Mapping) and inner.get(k) is not None})
        if not {"file_data", "file_id", "file_url"} & set(out):
            raise ValueError(f"{where}: a file part needs file_data (a data URL), file_id or "
                             "file_url")
        return out
    raise ValueError(f"{where}: unknown content part type {kind!r}; the types are text "
                     "(input_text, output_text), image_url / input_image, input_audio, "
                     "input_file")


def texts_of(parts: tuple[dict[str, Any], ...]) -> str:
    return "\n".join(p["text"] for p in parts if p["type"] == "text")


def part_wire(part: Mapping[str, Any], api: str, role: str = "user") -> dict[str, Any]:
    """A canonical part in `api`'s body."""
    kind = part["type"]
    if kind == "text":
        if api == "responses":
            return {"type": "output_text" if role == "assistant" else "input_text",
                    "text": part["text"]}
        return {"type": "text", "text": part["text"]}
    if kind == "image":
        if api == "responses":
            return {"type": "input_image", "image_url": part["url"],
                    "detail": part.get("detail", "auto")}
        inner = {"url": part["url"], **({"detail": part["detail"]} if "detail" in part else {})}
        return {"type": "image_url", "image_url": inner}
    if kind == "audio":
        return {"type": "input_audio",
                "input_audio": {"data": part["data"], "format": part["format"]}}
    fields = {k: part[k] for k in _FILE_KEYS if k in part}
    if api == "responses":
        return {"type": "input_file", **fields}
    return {"type": "file", "file": fields}


class PartsMessage(Message):
    """A message whose content is parts (text with images, audio or files), in order;
    `content` is its text, for counting and search."""

    parts: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content, "parts": [dict(p) for p in self.parts]}

    def wire(self, api: str) -> dict[str, Any]:
        return {"role": self.role, "content": [part_wire(p, api, self.role) for p in self.parts]}
