"""Saved conversations from cells: turns with assistant and developer messages, images and
audio, filled per row and sent as those messages on Chat Completions and Responses."""

from __future__ import annotations

import base64
import io
from typing import Any

import pandas as pd
import pytest
from PIL import Image

from nbplayground import InvalidInput
from nbplayground.configuration import Endpoint
from nbplayground.errors import ConfigurationError
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

FEW_SHOT: list[dict[str, Any]] = [
    {"role": "developer", "content": "Answer in one word."},
    {"role": "user", "content": "Capital of France?"},
    {"role": "assistant", "content": "Paris"},
    {"role": "user", "content": "Capital of {country}?"},
]
WAV = base64.b64encode(b"RIFF....WAVEfmt ").decode()


def png() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_a_saved_conversation_is_versioned_and_read_back(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    v1 = pg.prompts.save("few", messages=FEW_SHOT, model="gpt-4o-mini", temperature=0)
    assert pg.prompts.save("few", messages=FEW_SHOT, model="gpt-4o-mini",
                           temperature=0).version == 1
    v2 = pg.prompts.save("few", messages=[*FEW_SHOT[:3], {
        "role": "user", "content": "And of {country}?"}], model="gpt-4o-mini", temperature=0)
    assert v2.version == 2
    assert pg.prompts.get("few", 1) == v1 and pg.prompts.get("few").messages == v2.messages
    assert "+  And of {country}?" in pg.prompts.diff("few", 1, 2)
    listed = pg.prompts.list().set_index("name")
    assert listed.loc["few", "messages"][2] == {"role": "assistant", "content": "Paris"}
    with pytest.raises(InvalidInput, match="messages must be a list"):
        pg.prompts.save("few", messages="hi")


def test_run_sweep_and_estimate_fill_every_turn(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    v = pg.prompts.save("few", messages=FEW_SHOT, model="gpt-4o-mini", temperature=0)
    exp = pg.run(v, vars={"country": "Japan"})
    assert [m.as_dict() for m in exp.messages] == [*FEW_SHOT[:3], {
        "role": "user", "content": "Capital of Japan?"}]
    assert (exp.prompt_name, exp.prompt_version) == ("few", 1)
    df = pd.DataFrame({"country": ["Peru", "Chile"]})
    est = pg.estimate(v, vars=df)
    assert est.calls == 2 and est.prompt_tokens > 2 * 20  # all four turns are counted
    sw = pg.sweep(v, vars=df, progress=False)
    wide = sw.to_pandas()
    assert sorted(wide["prompt"]) == ["Capital of Chile?", "Capital of Peru?"]
    assert set(wide["prompt_version"]) == {1}
    # a plain conversation is filled per row too
    sw2 = pg.sweep([FEW_SHOT], vars=df, model="gpt-4o-mini", progress=False)
    assert sorted(sw2.to_pandas()["prompt"]) == ["Capital of Chile?", "Capital of Peru?"]
    with pytest.raises(InvalidInput, match="needs country"):
        pg.run(v)


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_turns_and_images_are_sent_as_those_messages(make_pg: Any, stub: OpenAIStub,
                                                     api: str) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    image = png()
    v = pg.prompts.save("seen", messages=[*FEW_SHOT[:3], {"role": "user", "content": [
        {"type": "input_text", "text": "Capital of the country of this flag ({hint})?"},
        {"type": "input_image", "image_url": "{flag}", "detail": "low"}]}],
        model="gpt-4o-mini", api=api)
    exp = pg.run(v, vars={"hint": "Asia", "flag": image})
    assert exp.ok, exp.error
    body = stub.requests[-1].body
    turns = body["messages"] if api == "chat" else body["input"]
    assert [t["role"] for t in turns] == ["developer", "user", "assistant", "user"]
    assert turns[2]["content"] == "Paris"
    text, picture = turns[3]["content"]
    if api == "chat":
        assert text == {"type": "text", "text": "Capital of the country of this flag (Asia)?"}
        assert picture == {"type": "image_url", "image_url": {"url": image, "detail": "low"}}
    else:
        assert text == {"type": "input_text",
                        "text": "Capital of the country of this flag (Asia)?"}
        assert picture == {"type": "input_image", "image_url": image, "detail": "low"}
    assert [i.media_type for i in exp.images] == ["image/png"]  # logged once per hash


def test_audio_goes_as_chats_input_audio_and_is_refused_where_it_cannot(
        make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    heard = [{"role": "user", "content": [
        {"type": "input_text", "text": "Transcribe."},
        {"type": "input_audio", "input_audio": {"data": "{clip}", "format": "wav"}}]}]
    exp = pg.run(heard, vars={"clip": WAV}, model="gpt-4o-audio-preview")
    assert exp.ok, exp.error
    part = stub.requests[-1].body["messages"][0]["content"][1]
    assert part == {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}
    before = stub.count()
    with pytest.raises(ConfigurationError, match="api='chat'"):
        pg.run(heard, vars={"clip": WAV}, model="gpt-4o-audio-preview", api="responses")
    assert stub.count() == before
    local = make_pg(provider="local")
    with pytest.raises(ConfigurationError, match="take no audio"):
        local.run(heard, vars={"clip": WAV})


def test_images_given_to_a_run_join_a_turn_made_of_parts(make_pg: Any, stub: OpenAIStub
                                                         ) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    turn = [{"role": "user", "content": [{"type": "input_text", "text": "Compare."},
                                         {"type": "input_image", "image_url": "{a}"}]}]
    exp = pg.run(turn, vars={"a": "https://example.com/a.png"}, model="gpt-4o-mini",
                 images=["https://example.com/b.png"])
    assert exp.ok, exp.error
    parts = stub.requests[-1].body["messages"][0]["content"]
    assert [p.get("image_url", {}).get("url") for p in parts] == [
        None, "https://example.com/a.png", "https://example.com/b.png"]
    assert len(exp.images) == 2  # each image once


def test_a_turn_of_parts_reads_back_from_the_log_whole(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    turn = [{"role": "user", "content": [{"type": "input_text", "text": "Look at {x}"},
                                         {"type": "input_image",
                                          "image_url": "https://example.com/{x}.png"}]}]
    first = pg.sweep([turn], vars=[{"x": "a"}], model="gpt-4o-mini", progress=False)
    again = pg.sweep([turn], vars=[{"x": "a"}], model="gpt-4o-mini", progress=False)
    assert again.count("cached") == 1  # the same body: the same cache key
    (sent,), (read,) = first.experiments, again.experiments
    assert read.messages == sent.messages
    assert read.messages[0].wire("chat")["content"][1]["image_url"]["url"] == \
        "https://example.com/a.png"
