"""Images sent with a prompt (vision input): paths, URLs or bytes, checked and counted.

A local image travels as a data URL; its sha256 and media type go in the log, its bytes once per
hash in the `attachments` table. Token counts follow OpenAI's published tile rules.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbplayground.domain.content import PartsMessage
from nbplayground.domain.messages import ImageMessage, Message
from nbplayground.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024
_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Image:
    url: str
    """What the request carries: a data URL for bytes and files, else the http(s) URL."""
    sha256: str
    media_type: str
    data: bytes | None = None
    width: int | None = None
    height: int | None = None


def _from_bytes(data: bytes, where: str) -> Image:
    from PIL import Image as Pil
    from PIL import UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{where} is {len(data) / 1e6:.1f} MB; OpenAI takes images up to 20 MB")
    try:
        with Pil.open(io.BytesIO(data)) as img:
            kind, (w, h) = img.format or "", img.size
    except (UnidentifiedImageError, OSError):
        raise InvalidInput(f"{where} is not an image (PNG, JPEG, GIF or WEBP)") from None
    if kind not in _TYPES:
        raise InvalidInput(f"{where} is a {kind} image; send PNG, JPEG, GIF or WEBP")
    media = _TYPES[kind]
    url = f"data:{media};base64,{base64.b64encode(data).decode()}"
    return Image(url, hashlib.sha256(data).hexdigest(), media, data, w, h)


def load_image(value: Any) -> Image:
    """One image from a path, an http(s) or data URL, or raw bytes."""
    if isinstance(value, bytes | bytearray | memoryview):
        return _from_bytes(bytes(value), "an image given as bytes")
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        # Not fetched here (nothing touches the network): the API reads the URL itself.
        return Image(value, hashlib.sha256(value.encode()).hexdigest(), "image/url")
    if isinstance(value, str) and value.startswith("data:image/"):
        try:
            data = base64.b64decode(value.split(",", 1)[1], validate=True)
        except (IndexError, ValueError):
            raise InvalidInput("a data URL image must be data:image/...;base64,<data>") from None
        return _from_bytes(data, "the data URL image")
    if isinstance(value, str | os.PathLike):
        path = Path(value).expanduser()
        if not path.is_file():
            raise InvalidInput(f"no image file at {str(path)!r}; give a path that exists, an "
                               "http(s) URL or the image's bytes")
        return _from_bytes(path.read_bytes(), f"the file {str(path)!r}")
    raise InvalidInput(f"an image must be a path, a URL or bytes, not {type(value).__name__}")


def load_images(values: Any) -> tuple[Image, ...]:
    if values is None:
        return ()
    if isinstance(values, str | bytes | os.PathLike):
        values = [values]
    if not isinstance(values, list | tuple):
        raise InvalidInput(f"images must be a list of paths, URLs or bytes, not {values!r}")
    return tuple(load_image(v) for v in values)


def image_tokens(image: Image) -> int:
    """OpenAI's tile rule for high detail: fit in 2048x2048, shortest side to 768, then 170 per
    512-pixel tile plus 85 (an unknown size — a URL — is counted as one 768x768 image)."""
    w: float = image.width or 768
    h: float = image.height or 768
    scale = min(1.0, 2048 / max(w, h))
    w, h = w * scale, h * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return 85 + 170 * tiles


def with_images(messages: tuple[Message, ...], images: tuple[Image, ...]
                ) -> tuple[Message, ...]:
    """The conversation with the images on its last user message."""
    last = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last is None:
        raise InvalidInput("images go with a user message; the prompt has none")
    m = messages[last]
    pictured: Message
    if isinstance(m, PartsMessage):  # a turn made of parts keeps them, the images after
        pictured = m.model_copy(update={"parts": (*m.parts, *(
            {"type": "image", "url": p.url} for p in images))})
    else:
        pictured = ImageMessage(role=m.role, content=m.content,
                                images=tuple(p.url for p in images))
    return (*messages[:last], pictured, *messages[last + 1:])
