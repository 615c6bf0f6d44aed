"""Images attached in the panel (dropped or picked): their bytes stay in the kernel, out of the
panel's configuration traits (a saved notebook keeps those), and go with the prompt like
pg.run(images=...). Only the Code view, which shows the request body, holds the data URL."""

from __future__ import annotations

from typing import Any

from nbplayground.configuration.images import load_image
from nbplayground.errors import InvalidInput

MAX_IMAGES = 8


class Attached(bytes):
    """An image's bytes with the file name it came from (generated code names the file)."""

    name: str

    def __new__(cls, data: bytes, name: str) -> Attached:
        made = super().__new__(cls, data)
        made.name = name
        return made


def attach(images: list[Attached], name: Any, buffers: Any) -> list[Attached]:
    """`images` plus the file the browser sent; checked as pg.run checks images."""
    if not buffers:
        raise InvalidInput("the image arrived without its bytes; attach it again")
    if len(images) >= MAX_IMAGES:
        raise InvalidInput(f"at most {MAX_IMAGES} images go with one prompt; remove one first")
    label = str(name or "image")[:120]
    data = bytes(buffers[0])
    try:
        load_image(data)
    except InvalidInput as e:
        raise InvalidInput(f"{label}: {e}") from None
    return [*images, Attached(data, label)]


def described(images: list[Attached]) -> list[dict[str, Any]]:
    """What the panel shows of each attached image."""
    out = []
    for image in images:
        loaded = load_image(bytes(image))
        out.append({"name": image.name, "kb": round(len(image) / 1024, 1),
                    "media_type": loaded.media_type, "width": loaded.width,
                    "height": loaded.height})
    return out
