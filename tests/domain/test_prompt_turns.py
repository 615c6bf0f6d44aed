"""Conversation templates in a PromptVersion: turns normalised from any API's spelling, their
fields, the hash (old versions keep theirs), the diff, and bad turns refused."""

from __future__ import annotations

from typing import Any

import pytest

from nbplayground.domain.prompts import PromptVersion, content_hash, diff_versions
from nbplayground.errors import InvalidPrompt

TURNS: list[dict[str, Any]] = [
    {"role": "developer", "content": "Answer in one word."},
    {"role": "user", "content": "Capital of France?"},
    {"role": "assistant", "content": {"type": "output_text", "text": "Paris"}},
    {"role": "user", "content": [{"type": "input_text", "text": "Capital of {country}?"},
                                 {"type": "input_image", "image_url": "{flag}",
                                  "detail": "low"}]},
]


def turns(messages: Any = None, **kw: Any) -> PromptVersion:
    return PromptVersion(name="few", messages=TURNS if messages is None else messages, **kw)


def test_turns_are_stored_in_one_spelling_and_show_their_last_user_turn() -> None:
    v = turns()
    assert v.messages[2] == {"role": "assistant", "content": "Paris"}
    assert v.messages[3]["content"] == [
        {"type": "text", "text": "Capital of {country}?"},
        {"type": "image", "url": "{flag}", "detail": "low"}]
    assert v.template == "Capital of {country}?"
    assert v.fields == ["country", "flag"]
    # chat's spelling of the same image is the same content
    chat = [*TURNS[:3], {"role": "user", "content": [
        {"type": "text", "text": "Capital of {country}?"},
        {"type": "image_url", "image_url": {"url": "{flag}", "detail": "low"}}]}]
    assert turns(chat).content_hash == v.content_hash


def test_a_version_without_turns_keeps_the_hash_it_was_saved_with() -> None:
    plain = PromptVersion(name="p", template="Capital of {country}?", system="One word.")
    assert plain.content_hash == content_hash("Capital of {country}?", "One word.")
    other = turns([{"role": "user", "content": "Capital of {country}?"}])
    assert other.template == plain.template and other.system is None
    assert other.content_hash != PromptVersion(name="p", template=other.template).content_hash


def test_a_placeholder_stands_for_a_whole_conversation() -> None:
    v = turns([{"role": "system", "content": "Be kind."}, {"placeholder": "conversation"}])
    assert v.fields == ["conversation"] and v.template == "{conversation}"


def test_the_diff_shows_turns() -> None:
    a = turns()
    b = turns([*TURNS[:3], {"role": "user", "content": [
        {"type": "input_text", "text": "Capital of {country}?"},
        {"type": "input_audio", "input_audio": {"data": "{clip}", "format": "wav"}}]}])
    text = diff_versions(a, b)
    assert "-  [image] {flag}" in text and "+  [audio] wav 6 chars" in text
    assert "template" not in text.splitlines()[0]


@pytest.mark.parametrize(("messages", "message"), [
    ([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}],
     r"messages\[1\].role must be one of"),
    ([{"role": "assistant", "content": "only me"}], "no user turn"),
    ([{"role": "user", "content": [{"type": "input_video", "url": "x"}]}],
     "unknown content part type 'input_video'"),
    ([{"role": "user", "content": [{"type": "input_audio",
                                    "input_audio": {"data": "x", "format": "ogg"}}]}],
     "wav or mp3"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": [
        {"type": "input_image", "image_url": "u"}]}], "assistant turn is text only"),
    ([{"role": "user", "content": "Capital of {}?"}], "positional field"),
    ([{"placeholder": "a b"}], "placeholder names the variable"),
])
def test_bad_turns_are_a_typed_error(messages: Any, message: str) -> None:
    with pytest.raises(InvalidPrompt, match=message):
        turns(messages)
