"""The panel's prompt versions: what is on screen saved as a version, loaded back, and runs from
a version still on screen tagged with it (issue 18)."""

from __future__ import annotations

from typing import Any

import pytest

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


def test_a_conversation_or_a_nameless_save_is_refused_in_words(pg: Any) -> None:
    panel = panel_of(pg, prompt="And then?", messages=[{"role": "user", "content": "Hi"},
                                                        {"role": "assistant", "content": "Hey"}])
    act(panel, "save_version", name="chat")
    assert panel.notice["level"] == "error" and "earlier turns" in panel.notice["text"]
    panel.messages = []
    act(panel, "save_version", name="  ")
    assert panel.notice["level"] == "error" and "name" in panel.notice["text"]
    act(panel, "load_version", name="missing", version=1)
    assert panel.notice["level"] == "error" and "missing" in panel.notice["text"]
    assert pg.prompts.list().empty
