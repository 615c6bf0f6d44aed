"""What a cell's prompt becomes before it is counted and sent: its messages (system first,
images on the last user turn, content parts checked against what the provider takes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nbplayground.configuration.images import (
    Image,
    image_tokens,
    load_image,
    load_images,
    with_images,
)
from nbplayground.domain import Message, as_messages
from nbplayground.domain.content import PartsMessage
from nbplayground.errors import ConfigurationError, InvalidInput

Prompt = str | Sequence[Mapping[str, str] | Message]


def build_messages(prompt: Prompt, system: str | None, images: Any, client: Any,
                   provider: str, api: str) -> tuple[tuple[Message, ...], tuple[Image, ...], int]:
    """The messages, the images they carry (bytes included, for the attachments table) and
    the tokens those images count; a part the provider or API cannot take is refused here."""
    try:
        messages = as_messages(prompt, system)
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"a message must have a role (system, user, assistant) and a "
                           f"content string: {e}") from None
    inline: list[Image] = []
    for m in messages:
        if not isinstance(m, PartsMessage):
            continue
        kinds = {p["type"] for p in m.parts}
        if "image" in kinds:
            _can_see(client, provider)
            inline += [load_image(p["url"]) for p in m.parts if p["type"] == "image"]
        if "audio" in kinds:
            if not getattr(client, "hears_audio", True):
                raise ConfigurationError(f"the {provider} provider's models take no audio; use "
                                         "an OpenAI audio model (e.g. gpt-4o-audio-preview)")
            if api == "responses":
                raise ConfigurationError("audio input goes through Chat Completions: use "
                                         "api='chat' with an audio model (e.g. "
                                         "gpt-4o-audio-preview)")
        if "file" in kinds and not getattr(client, "reads_files", True):
            raise ConfigurationError(f"the {provider} provider's models read no files; use an "
                                     "OpenAI model that takes PDF input (e.g. gpt-4o-mini)")
    pictures = load_images(images)  # after the scan: they join a turn's parts, not twice
    if pictures:
        _can_see(client, provider)
        messages = with_images(messages, pictures)
    every = (*inline, *pictures)
    return messages, every, sum(image_tokens(p) for p in every)


def _can_see(client: Any, provider: str) -> None:
    if not getattr(client, "sees_images", True):
        raise ConfigurationError(f"the {provider} provider's models read no images; "
                                 "use an OpenAI vision model (e.g. gpt-4o-mini)")
