"""The panel's prompt versions: what is on screen saved as a version, loaded back, and runs from
a version still on screen tagged with it (issue 18)."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from nbplayground.ui.panel import PlaygroundPanel
from tests.ui.test_panel import act, panel_of


@pytest.fixture
def pg(make_pg: Any) -> Any:
    return make_pg(provider="simulated", simulated_latency=0.01)


def test_save_as_version_then_load_and_run_tags_the_row(pg: Any) -> None:
    panel = panel_of(pg, prompt="Name a colour.", system="One word.", model="gpt-4o-mini",
                     temperature=0.2)
    assert panel.prompt_versions == []
    act(panel, "save_version", name="colours")
    assert panel.notice["text"] == "Saved colours v1"
    v1 = pg.prompts.get("colours")
    assert (v1.template, v1.system, v1.model, v1.params["temperature"]) == (
        "Name a colour.", "One word.", "gpt-4o-mini", 0.2)
    act(panel, "save_version", name="colours")  # the same content: the same version
    assert [e["label"] for e in panel.prompt_versions] == ["colours v1"]

    panel.prompt = "Name two colours."
    act(panel, "save_version", name="colours")
    assert [e["label"] for e in panel.prompt_versions] == ["colours v2", "colours v1"]
    assert PlaygroundPanel(pg).prompt_versions == panel.prompt_versions  # a new panel lists them

    act(panel, "load_version", name="colours", version=1)
    assert (panel.prompt, panel.system, panel.params["temperature"]) == (
        "Name a colour.", "One word.", 0.2)
    act(panel, "run")
    tagged = pg.history().iloc[0]
    assert (tagged["prompt_name"], tagged["prompt_version"]) == ("colours", 1)

    panel.prompt = "Name a colour, please."  # edited: no longer version 1
    act(panel, "run")
    edited = pg.history().iloc[0]
    assert edited["prompt"] == "Name a colour, please."
    assert edited["prompt_name"] is None or edited["prompt_name"] != edited["prompt_name"]


def test_a_nameless_save_or_a_missing_version_is_refused_in_words(pg: Any) -> None:
    panel = panel_of(pg, prompt="And then?")
    act(panel, "save_version", name="  ")
    assert panel.notice["level"] == "error" and "name" in panel.notice["text"]
    act(panel, "load_version", name="missing", version=1)
    assert panel.notice["level"] == "error" and "missing" in panel.notice["text"]
    assert pg.prompts.list().empty


def _png(colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(out, format="PNG")
    return out.getvalue()


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


TRIP = [{"role": "developer", "content": "Answer in one sentence."},
        {"role": "user", "content": "Plan a day in Lisbon."},
        {"role": "assistant", "content": "Start at Belém, then ride tram 28."},
        {"role": "user", "content": [{"type": "input_text", "text": "What is in this photo?"},
                                     {"type": "input_image", "image_url": _data_url(_png())}]}]


def test_loading_a_conversation_version_shows_every_turn_and_runs_them_all(pg: Any) -> None:
    pg.prompts.save("trip", messages=TRIP, system="Be kind.", model="gpt-4o-mini")
    panel = panel_of(pg, prompt="something else")
    act(panel, "load_version", name="trip", version=1)
    assert panel.notice["text"] == "Loaded trip v1"
    assert [(m["role"], m["content"]) for m in panel.messages] == [
        ("developer", "Answer in one sentence."), ("user", "Plan a day in Lisbon."),
        ("assistant", "Start at Belém, then ride tram 28.")]
    assert (panel.prompt, panel.system) == ("What is in this photo?", "Be kind.")
    assert [(a["name"], a["media_type"], a["width"]) for a in panel.attachments] == [
        ("image-1.png", "image/png", 24)]

    act(panel, "run")
    exp = pg.get(panel.metrics["id"])
    assert [m.role for m in exp.messages] == ["system", "developer", "user", "assistant", "user"]
    assert exp.messages[-1].parts[1] == {"type": "image", "url": _data_url(_png())}
    assert (exp.prompt_name, exp.prompt_version) == ("trip", 1)  # the version, untouched

    panel.messages = [*panel.messages[:2], {"role": "assistant", "content": "Ride tram 28."}]
    act(panel, "run")
    edited = pg.get(panel.metrics["id"])
    assert edited.messages[3].content == "Ride tram 28." and edited.prompt_name is None


def test_save_as_version_from_a_multi_turn_panel_saves_the_conversation(pg: Any) -> None:
    panel = panel_of(pg, prompt="And in the evening?", system="Be brief.", model="gpt-4o-mini",
                     messages=[{"role": "user", "content": "Plan a day in Porto."},
                               {"role": "assistant", "content": "Walk the Ribeira."}])
    panel.receive(panel, {"action": "attach", "name": "map.png"}, [_png((200, 40, 40))])
    assert panel.wait(30)
    act(panel, "save_version", name="porto")
    v = pg.prompts.get("porto")
    assert (v.system, v.model, v.template) == ("Be brief.", "gpt-4o-mini", "And in the evening?")
    assert [t["role"] for t in v.messages] == ["user", "assistant", "user"]
    assert v.messages[2]["content"] == [
        {"type": "text", "text": "And in the evening?"},
        {"type": "image", "url": _data_url(_png((200, 40, 40)))}]

    other = panel_of(pg)  # a fresh panel loads it whole, and so does pg.panel(prompt=v)
    act(other, "load_version", name="porto", version=1)
    opened = pg.panel(prompt=v)
    assert opened.wait(30)
    for shown in (other, opened):
        assert [m["content"] for m in shown.messages] == ["Plan a day in Porto.",
                                                          "Walk the Ribeira."]
        assert shown.prompt == "And in the evening?" and len(shown.attachments) == 1
    act(opened, "run")
    assert pg.get(opened.metrics["id"]).prompt_name == "porto"
    act(other, "save_version", name="porto")  # what was loaded saves as the same version
    assert other.notice["text"] == "Saved porto v1" and len(pg.prompts.versions("porto")) == 1


def test_media_a_panel_cannot_attach_stays_in_its_turn_and_survives_an_edit(pg: Any) -> None:
    pg.prompts.save("zoo", model="gpt-4o-mini", messages=[
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                "detail": "low"}},
            {"type": "text", "text": "Which animal?"}]},
        {"role": "assistant", "content": "A zebra."},
        {"role": "user", "content": [{"type": "input_text", "text": "And this one?"},
                                     {"type": "input_image",
                                      "image_url": "https://example.com/b.png"}]}])
    panel = panel_of(pg)
    act(panel, "load_version", name="zoo", version=1)
    # An http image is no attachment (the panel holds bytes): the last turn stays a turn.
    assert (panel.prompt, panel.attachments) == ("", [])
    assert [m["content"] for m in panel.messages] == ["Which animal?", "A zebra.",
                                                      "And this one?"]
    first = dict(panel.messages[0])
    panel.messages = [{**first, "content": "Which animal is it?"}, *panel.messages[1:]]
    act(panel, "run")
    sent = pg.get(panel.metrics["id"]).messages
    assert sent[0].parts == ({"type": "image", "url": "https://example.com/a.png",
                              "detail": "low"},
                             {"type": "text", "text": "Which animal is it?"})
    assert sent[2].parts[1] == {"type": "image", "url": "https://example.com/b.png"}


def test_a_version_filled_from_a_conversation_variable_is_refused_in_words(pg: Any) -> None:
    pg.prompts.save("support", messages=[{"role": "system", "content": "Be kind."},
                                         {"placeholder": "history"}])
    panel = panel_of(pg, prompt="Hi")
    act(panel, "load_version", name="support", version=1)
    assert panel.notice["level"] == "error" and "{history}" in panel.notice["text"]
    assert (panel.prompt, panel.messages) == ("Hi", [])


def test_a_logged_run_with_tool_turns_loads_from_history_and_runs_again(pg: Any) -> None:
    exp = pg.run([{"role": "user", "content": "Weather in Oslo?"},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"id": "c1", "type": "function",
                       "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}]},
                  {"role": "tool", "tool_call_id": "c1", "content": "snow"},
                  {"role": "user", "content": "A coat?"}], model="gpt-4o-mini")
    panel = panel_of(pg)
    act(panel, "load", id=exp.id)
    assert [m["role"] for m in panel.messages] == ["user", "assistant", "tool"]
    act(panel, "run")
    again = pg.get(panel.metrics["id"])
    assert again.messages == exp.messages  # the calls and the result, sent as they were
    act(panel, "save_version", name="oslo")  # a version with its tool turns, loaded back
    assert [t.get("role") for t in pg.prompts.get("oslo").messages] == [
        "user", "assistant", "tool", "user"]
    other = panel_of(pg)
    act(other, "load_version", name="oslo", version=1)
    assert other.messages == panel.messages and other.prompt == "A coat?"
    act(other, "run")
    assert pg.get(other.metrics["id"]).messages == exp.messages
