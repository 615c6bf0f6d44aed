"""The local provider through the facade: default with no key, free, priceable as another model."""

from __future__ import annotations

from typing import Any

import pytest

from nbplayground.facade_providers import local_available

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(not local_available(), reason="needs the local extra"),
]


def test_no_key_means_the_local_model(make_pg: Any) -> None:
    pg = make_pg()
    assert pg.provider == "local" and pg.default_model() == "smollm2"
    models = pg.models()
    assert "smollm2" in set(models[models["provider"] == "local"]["model"])


def test_local_runs_cost_nothing_and_can_be_priced_as_a_production_model(make_pg: Any) -> None:
    pg = make_pg()
    exp = pg.run("Name three colours.", max_tokens=12, temperature=0, seed=3,
                 price_as="gpt-4o-mini")
    assert exp.ok and exp.provider == "local" and exp.response.strip()
    assert exp.metrics.cost_estimate == 0.0
    assert exp.metrics.cost_as is not None and exp.metrics.cost_as > 0
    assert "local (free)" in exp.summary()
    row = pg.history().iloc[0]
    assert row["price_as"] == "gpt-4o-mini" and row["cost_as"] == pytest.approx(
        exp.metrics.cost_as)


def test_estimate_prices_a_local_sweep_for_production(make_pg: Any) -> None:
    pg = make_pg()
    est = pg.estimate(["Say yes.", "Say no."], temperature=[0.0, 1.0], max_tokens=10,
                      price_as="gpt-4o-mini")
    assert est.calls == 4 and est.max_cost == 0.0
    assert est.max_cost_as is not None and est.min_cost_as is not None
    assert 0 < est.min_cost_as < est.max_cost_as
    assert "gpt-4o-mini" in str(est)


def test_a_local_sweep_runs_one_cell_at_a_time_and_says_so(
        make_pg: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pg = make_pg()
    sw = pg.sweep(["Say yes.", "Say no."], max_tokens=6, concurrency=8, seed=1)
    assert sw.count("ok") == 2
    assert "one cell at a time" in capsys.readouterr().err


def test_any_gguf_file_can_be_added_by_name_and_path(make_pg: Any, tmp_path: Any) -> None:
    import shutil

    from nbplayground import ConfigurationError
    from nbplayground.adapters.llamacpp_chat import smollm2_path

    pg = make_pg()
    with pytest.raises(ConfigurationError, match="no file"):
        pg.add_local_model("ghost", tmp_path / "missing.gguf")
    copy = tmp_path / "my-model.gguf"
    shutil.copy(smollm2_path() or "", copy)
    pg.add_local_model("my-model", copy)
    exp = pg.run("Say hi.", model="my-model", max_tokens=5, provider="local")
    assert exp.ok and exp.model == "my-model" and exp.metrics.completion_tokens > 0
    assert "my-model" in set(pg.models()["model"])


def test_the_local_model_answers_a_json_schema_that_parses(make_pg: Any) -> None:
    from pydantic import BaseModel

    class Colour(BaseModel):
        name: str
        hex: str

    pg = make_pg()
    exp = pg.submit("Name a colour and its hex code as JSON.", max_tokens=60, temperature=0,
                    response_format=Colour).result()
    assert exp.ok, exp.error
    assert isinstance(exp.parsed, Colour) and exp.parsed.name
    row = pg.history().iloc[0]
    assert row.parsed is not None and "hex" in row.parsed


def test_the_local_model_is_chat_completions_only(make_pg: Any) -> None:
    from nbplayground import NbPlaygroundError

    with pytest.raises(NbPlaygroundError, match="use api='chat'"):
        make_pg().submit("hi", api="responses")


def test_one_sweep_runs_the_local_model_beside_simulated_gpt_4o(
        make_pg: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pg = make_pg()
    sw = pg.sweep("Say yes.", provider=["local", "simulated"], model=["smollm2", "gpt-4o"],
                  mode="zip", max_tokens=6, seed=1)
    df = sw.to_pandas()
    assert list(zip(df["provider"], df["model"], df["status"], strict=True)) == [
        ("local", "smollm2", "ok"), ("simulated", "gpt-4o", "ok")]
    assert df["cost_estimate"][0] == 0 and df["cost_estimate"][1] > 0
    assert "the local model one at a time" in capsys.readouterr().err
    assert "would cost, simulated" in sw.summary()
    # No model named: each provider's own default.
    est = pg.estimate("Say no.", provider=["local", "simulated"], max_tokens=6)
    assert set(est.by_model) == {"smollm2 (local)", "gpt-4o-mini (simulated)"}
