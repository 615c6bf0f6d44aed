"""pg.prompts end to end on the DuckDB log: versions saved and found, a version run, swept as
an axis and estimated, its rows tagged in the log, the history and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from nbplayground.errors import InvalidParameter, InvalidPrompt, PromptNotFound


@pytest.fixture
def pg(make_pg: Any) -> Any:
    return make_pg(provider="simulated", simulated_latency=0, user="alice")


COUNTRIES = pd.DataFrame({"country": ["France", "Japan"], "capital": ["Paris", "Tokyo"]})


def save_two(pg: Any) -> tuple[Any, Any]:
    v1 = pg.prompts.save("capitals", "Capital of {country}?", system="One word.",
                         model="gpt-4o-mini", temperature=0)
    v2 = pg.prompts.save("capitals", "What is the capital of {country}?", system="One word.",
                         model="gpt-4o-mini", temperature=0.5, max_tokens=5)
    return v1, v2


def test_save_versions_same_content_and_author(pg: Any) -> None:
    v1, v2 = save_two(pg)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.author == "alice" and v1.params == {"temperature": 0.0}
    again = pg.prompts.save("capitals", "Capital of {country}?", system="One word.",
                            model="gpt-4o-mini", temperature=0.0)
    assert again == v1
    assert pg.prompts.get("capitals") == v2
    assert pg.prompts.get("capitals", version=1) == v1
    assert pg.prompts.versions("capitals") == [v1, v2]
    listed = pg.prompts.list()
    assert list(listed["name"]) == ["capitals"]
    assert (listed["latest_version"].iloc[0], listed["versions"].iloc[0]) == (2, 2)
    text = pg.prompts.diff("capitals", 1, 2)
    assert "-Capital of {country}?" in text and "+max_tokens = 5" in text


def test_unknown_names_and_versions_say_which_exist(pg: Any) -> None:
    with pytest.raises(PromptNotFound, match="none is saved yet"):
        pg.prompts.get("capitals")
    save_two(pg)
    pg.prompts.save("haiku", "A haiku about {topic}")
    with pytest.raises(PromptNotFound, match="'capitals', 'haiku'"):
        pg.prompts.versions("capital")
    with pytest.raises(PromptNotFound, match="no version 3; its versions are 1, 2"):
        pg.prompts.get("capitals", 3)
    with pytest.raises(PromptNotFound, match="no version 9"):
        pg.prompts.diff("capitals", 1, 9)


def test_bad_prompts_are_refused_before_saving(pg: Any, db: Path) -> None:
    with pytest.raises(InvalidParameter, match="temperature must be between 0 and 2"):
        pg.prompts.save("p", "Hi", temperature=5)
    with pytest.raises(InvalidParameter, match="unknown request field 'temperatur'"):
        pg.prompts.save("p", "Hi", temperatur=1)
    with pytest.raises(InvalidParameter, match="does not accept temperature"):
        pg.prompts.save("p", "Hi", model="o4-mini", temperature=1)
    with pytest.raises(InvalidPrompt, match="template is empty"):
        pg.prompts.save("p", " ")
    pg.prompts.save("p", "Hi", stop="END")  # one stop sequence is stored as the list it is
    assert pg.prompts.get("p").params == {"stop": ["END"]}


def test_a_version_runs_with_its_defaults_and_is_tagged(pg: Any, db: Path) -> None:
    v1, _ = save_two(pg)
    exp = pg.run(v1, vars={"country": "France"})
    assert exp.prompt == "Capital of France?" and exp.system == "One word."
    assert (exp.model, exp.parameters.temperature) == ("gpt-4o-mini", 0.0)
    assert (exp.prompt_name, exp.prompt_version) == ("capitals", 1)
    over = pg.run(v1, model="gpt-4.1-nano", vars={"country": "Japan"}, temperature=1.5,
                  system="Two words.")
    assert (over.model, over.parameters.temperature, over.system) == (
        "gpt-4.1-nano", 1.5, "Two words.")
    with pytest.raises(InvalidPrompt, match="capitals v1 needs country"):
        pg.run(v1)
    plain = pg.run("Say hi")
    assert plain.prompt_name is None
    with duckdb.connect(str(db), read_only=True) as conn:
        logged = conn.execute("select prompt_name, prompt_version, prompt from experiments "
                              "order by created_at").fetchall()
    assert logged == [("capitals", 1, "Capital of France?"), ("capitals", 1, "Capital of Japan?"),
                      (None, None, "Say hi")]
    history = pg.history()  # newest first
    assert history["prompt_name"].tolist()[1:] == ["capitals", "capitals"]
    assert history["prompt_version"].isna().tolist() == [True, False, False]
    assert history["prompt_version"].tolist()[1:] == [1, 1]
    assert pg.get(exp.id).prompt_version == 1


def test_versions_are_an_axis_of_a_sweep(pg: Any) -> None:
    versions = list(save_two(pg))
    est = pg.estimate(pg.prompts.versions("capitals"), vars=COUNTRIES)
    assert est.calls == 4
    sw = pg.sweep(pg.prompts.versions("capitals"), vars=COUNTRIES, progress=False)
    df = sw.to_pandas()
    assert list(df["prompt_version"]) == [1, 1, 2, 2]
    assert set(df["prompt_name"]) == {"capitals"}
    assert list(df["prompt"]) == ["Capital of France?", "Capital of Japan?",
                                  "What is the capital of France?",
                                  "What is the capital of Japan?"]
    assert list(df["temperature"]) == [0.0, 0.0, 0.5, 0.5]
    assert list(df["max_tokens"])[2:] == [5, 5]
    assert sw.spec["prompts"] == ["capitals v1", "capitals v2"]
    assert all(e.prompt_version in (1, 2) for e in sw.experiments)
    report = pg.report("cost", sw, by=["prompt_version"])
    assert sorted(report["prompt_version"]) == [1, 2] and list(report["calls"]) == [2, 2]
    # Explicit arguments override each version's own: both now send model and temperature.
    both = pg.sweep(versions, vars=COUNTRIES.head(1), model=["gpt-4.1-nano"], temperature=1.0,
                    progress=False).to_pandas()
    assert list(both["model"]) == ["gpt-4.1-nano"] * 2
    assert list(both["temperature"]) == [1.0, 1.0]


def test_a_sweep_of_one_version_without_vars_fills_nothing(pg: Any) -> None:
    v = pg.prompts.save("hello", "Say hello in {{braces}}", model="gpt-4.1-nano")
    df = pg.sweep(v, progress=False).to_pandas()
    assert list(df["prompt"]) == ["Say hello in {braces}"]
    assert list(df["model"]) == ["gpt-4.1-nano"]
    with pytest.raises(InvalidPrompt, match="c v1 needs country"):
        pg.sweep(pg.prompts.save("c", "Capital of {country}?"), progress=False)


def test_the_panel_opens_on_a_version(pg: Any) -> None:
    v1, _ = save_two(pg)
    panel = pg.panel(prompt=v1, max_tokens=7)
    try:
        assert panel.wait(30)
        assert (panel.prompt, panel.system, panel.model) == (
            "Capital of {country}?", "One word.", "gpt-4o-mini")
        assert panel.params["temperature"] == 0.0 and panel.params["max_tokens"] == 7
        other = pg.panel(prompt=v1, model="gpt-4.1-nano", system="Be brief.")
        assert panel.wait(30) and other.wait(30)
        assert (other.model, other.system) == ("gpt-4.1-nano", "Be brief.")
        other.close()
    finally:
        panel.close()


def test_cells_from_the_cache_carry_their_own_version(pg: Any) -> None:
    # Two versions that differ only in what the call overrides send the same body: a re-run
    # takes both from the log, each still tagged with its own version.
    a = pg.prompts.save("t", "Say hi", temperature=0)
    b = pg.prompts.save("t", "Say hi", temperature=0.5)
    first = pg.sweep([a, b], temperature=1.0, progress=False)
    again = pg.sweep([a, b], temperature=1.0, progress=False)
    assert first.count("ok") == 2 and again.count("cached") == 2
    assert [e.prompt_version for e in again.experiments] == [1, 2]
    assert list(again.to_pandas()["prompt_version"]) == [1, 2]
