"""Reports against values worked out by hand on the log in conftest.py (real DuckDB file)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.analytics import reports
from nbplayground.domain import ModelParameters
from nbplayground.errors import InvalidInput
from tests.analytics.conftest import SWEEP, hand_log
from tests.factories import make_experiment

Repo = DuckDBExperimentRepository
SQRT8, SQRT50 = math.sqrt(8), math.sqrt(50)


def test_varying_finds_the_swept_axes_only(repo: Repo) -> None:
    assert reports.varying(repo.query, "alice", SWEEP) == ["model", "temperature"]
    assert reports.distinct(repo.query, "alice", SWEEP)["model"] == 2


def test_pivot_is_mean_and_std_over_repeats_per_cell(repo: Repo) -> None:
    df = reports.pivot(repo.query, "alice", SWEEP)
    assert list(df.index.names) == ["model", "temperature"]
    assert df.index.tolist() == [("m1", 0.0), ("m1", 1.0), ("m2", 0.0), ("m2", 1.0)]
    assert df["n"].tolist() == [2, 2, 2, 2]
    assert df["errors"].tolist() == [1, 0, 0, 0]  # the 429 is counted, not averaged
    assert df["completion_tokens_mean"].tolist() == [12.0, 25.0, 5.0, 10.0]
    assert df["completion_tokens_std"].tolist() == pytest.approx([SQRT8, SQRT50, 0.0, SQRT8])
    assert df["cost_mean"].tolist() == pytest.approx([12e-4, 25e-4, 5e-4, 10e-4])
    assert df["cost_std"].tolist() == pytest.approx([SQRT8 * 1e-4, SQRT50 * 1e-4, 0, SQRT8 * 1e-4])
    assert df["latency_ms_mean"].tolist() == [150.0, 350.0, 50.0, 200.0]
    assert df["latency_ms_std"].tolist() == pytest.approx([SQRT50 * 10, SQRT50 * 10, 0.0,
                                                           SQRT50 * 10])


def test_pivot_by_given_axes_pools_the_rest(repo: Repo) -> None:
    df = reports.pivot(repo.query, "alice", SWEEP, by="model")
    assert df.index.tolist() == ["m1", "m2"]
    assert df["completion_tokens_mean"].tolist() == [18.5, 7.5]


def test_reports_see_one_user_and_one_sweep(repo: Repo) -> None:
    mine = reports.cost(repo.query, "alice", SWEEP)
    assert mine["calls"].sum() == 9  # 8 ok + 1 error; bob's row and the other sweep left out
    everything = reports.cost(repo.query, "alice", None)
    assert everything["calls"].sum() == 10
    users = reports.cost(repo.query, None, SWEEP, by="user").set_index("user")
    assert users.loc["bob", "completion_tokens"] == 99


def test_cost_by_model_sums_calls_tokens_and_usd(repo: Repo) -> None:
    df = reports.cost(repo.query, "alice", SWEEP, by="model")
    assert df["model"].tolist() == ["m1", "m2"]  # most expensive first
    assert df["calls"].tolist() == [5, 4]
    assert df["errors"].tolist() == [1, 0]
    assert df["prompt_tokens"].tolist() == [40, 40]
    assert df["completion_tokens"].tolist() == [74, 30]
    assert df["tokens"].tolist() == [114, 70]
    assert df["cost"].tolist() == pytest.approx([74e-4, 30e-4])
    assert df["unpriced"].tolist() == [0, 0]


def test_cost_by_day_and_model(repo: Repo) -> None:
    df = reports.cost(repo.query, "alice", None, by=["day", "model"])
    days = [d.date() if hasattr(d, "date") else d for d in df["day"]]
    assert list(zip(days, df["model"], df["calls"], strict=True)) == [
        (date(2025, 3, 14), "m1", 5), (date(2025, 3, 14), "m2", 4), (date(2025, 3, 15), "m2", 1)]
    assert df["cost"].tolist() == pytest.approx([74e-4, 30e-4, 7e-4])


def test_latency_percentiles_are_quantile_cont(repo: Repo) -> None:
    df = reports.latency(repo.query, "alice", SWEEP).set_index("model")
    # m1: 100, 200, 300, 400 ms -> p50 at position 1.5, p95 at 2.85, p05 at 0.15
    assert df.loc["m1", ["p05_ms", "p25_ms", "p50_ms", "p75_ms", "p95_ms"]].tolist() == \
        pytest.approx([115.0, 175.0, 250.0, 325.0, 385.0])
    # m2: 50, 50, 150, 250 ms
    assert df.loc["m2", "p50_ms"] == pytest.approx(100.0)
    assert df.loc["m2", "p95_ms"] == pytest.approx(235.0)
    assert df["n"].tolist() == [4, 4]  # the failed call has no latency to speak of
    assert df["mean_ms"].tolist() == [250.0, 125.0]
    assert df["tokens_per_s"].tolist() == pytest.approx([74 / 1.0, 30 / 0.5])


def test_length_against_each_parameter(repo: Repo) -> None:
    df = reports.length(repo.query, "alice", SWEEP).set_index(["parameter", "value"])
    assert df.index.tolist() == [("model", "m1"), ("model", "m2"), ("temperature", "0.0"),
                                 ("temperature", "1.0")]
    # characters: m1 5, 5, 5, 5; m2 13, 11, 3, 14
    assert df["answer_chars_mean"].tolist() == [5.0, 10.25, 8.5, 6.75]
    assert df.loc[("model", "m2"), "answer_chars_std"] == pytest.approx(math.sqrt(74.75 / 3))
    assert df.loc[("model", "m1"), "answer_chars_std"] == 0.0
    assert df["completion_tokens_mean"].tolist() == [18.5, 7.5, 8.5, 17.5]
    assert df["numeric"].tolist()[2:] == [0.0, 1.0]
    assert df["n"].tolist() == [4, 4, 4, 4]


def test_variety_is_distinct_bigrams_over_all_bigrams_per_cell(repo: Repo) -> None:
    df = reports.variety(repo.query, "alice", SWEEP)
    assert df.index.tolist() == [("m1", 0.0), ("m1", 1.0), ("m2", 0.0), ("m2", 1.0)]
    # "a b c" twice: {ab, bc} of 4; "a b c"+"c d e": 4 of 4; "Hello, world!"+"hello world":
    # words are lower-cased and punctuation dropped, so 1 of 2; "one"+"two three four": 2 of 2
    assert df["ngrams"].tolist() == [4, 4, 2, 2]
    assert df["distinct_ngrams"].tolist() == [2, 4, 1, 2]
    assert df["distinct_ratio"].tolist() == [0.5, 1.0, 0.5, 1.0]
    assert df["distinct_answers"].tolist() == [1, 2, 2, 2]
    words = reports.variety(repo.query, "alice", SWEEP, by="model", n=1)
    # m1 words: a b c a b c a b c c d e -> {a b c d e} = 5 of 12
    assert words.loc["m1", "distinct_ratio"] == pytest.approx(5 / 12)


def test_variety_reads_only_the_newest_rows(repo: Repo) -> None:
    newest = reports.variety(repo.query, "alice", SWEEP, by="model", rows=2)
    assert newest.index.tolist() == ["m2"]  # the two newest ok runs: "one", "two three four"
    assert newest["repeats"].tolist() == [2]
    assert newest["distinct_ratio"].tolist() == [1.0]


def test_answers_side_by_side_with_a_word_diff(repo: Repo) -> None:
    df = reports.answers(repo.query, "alice", SWEEP, diff=True)
    assert list(df.index.names) == ["temperature", "repeat"]
    assert list(df.columns) == ["m1", "m2", "diff"]
    assert df.loc[(1.0, 1), "m1"] == "c d e"
    assert df.loc[(1.0, 1), "m2"] == "two three four"
    assert df.loc[(0.0, 2), "m1"] == "[error] 429 rate limited"
    assert df.loc[(0.0, 1), "diff"] == reports.text_diff("a b c", "hello world")
    by_temperature = reports.answers(repo.query, "alice", SWEEP, column="temperature")
    assert list(by_temperature.columns) == ["temperature=0.0", "temperature=1.0"]
    assert by_temperature.loc[("m2", 0), "temperature=1.0"] == "one"


def test_text_diff_marks_words_removed_and_added() -> None:
    assert reports.text_diff("the cat sat on the mat", "the dog sat on a mat") == \
        "the [-cat-]{+dog+} sat on [-the-]{+a+} mat"
    assert reports.text_diff("same words", "same words") == "same words"
    assert reports.text_diff(None, "new") == "{+new+}"
    assert reports.text_diff("line one\nline two", "line one\nline 2") == \
        "line one\nline [-two-]{+2+}"


def test_compare_data_has_series_mean_std_and_hover_fields(repo: Repo) -> None:
    df = reports.compare(repo.query, "alice", SWEEP, "temperature", "completion_tokens", "model")
    assert df["series"].tolist() == ["m1", "m1", "m2", "m2"]
    assert df["completion_tokens_mean"].tolist() == [12.0, 25.0, 5.0, 10.0]
    assert df["n"].tolist() == [2, 2, 2, 2]
    assert df["prompts"].tolist() == ["Write a haiku about DuckDB."] * 4
    assert df["max_tokens"].tolist() == ["32"] * 4
    assert df["top_p"].isna().all()  # not sent: the model's default


def test_compare_pools_other_axes_past_max_series(repo: Repo) -> None:
    many = [e.model_copy(update={"id": f"p{i}-{e.id}", "messages": (
        e.messages[0], e.messages[1].model_copy(update={"content": f"prompt {i}"}))})
        for i in range(reports.MAX_SERIES + 1) for e in hand_log()[:2]]
    repo.add(many)
    df = reports.compare(repo.query, "alice", SWEEP, "temperature", "completion_tokens", "model")
    assert df["series"].unique().tolist() == ["m1", "m2"]
    assert df["prompts"].iloc[0].startswith(f"{reports.MAX_SERIES + 2} prompts, e.g. ")


@pytest.mark.parametrize(("call", "message"), [
    (lambda q: reports.pivot(q, "alice", by="colour"), "by must be among"),
    (lambda q: reports.cost(q, "alice", by="week"), "by must be among model, user, day"),
    (lambda q: reports.cost(q, "alice", by=[]), "at least one"),
    (lambda q: reports.compare(q, "alice", None, "temperature", "vibes"), "numeric metrics"),
    (lambda q: reports.compare(q, "alice", None, "x; DROP TABLE", "cost"), "x must be among"),
    (lambda q: reports.variety(q, "alice", n=0), "from 1 to 5"),
    (lambda q: reports.answers(q, "alice", limit=0), "positive whole number"),
    (lambda q: reports.answers(q, "alice", column="repeat"), "column must be among"),
])
def test_bad_arguments_say_what_to_change(repo: Repo, call: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call(repo.query)  # type: ignore[operator]


def test_metric_aliases() -> None:
    assert reports.metric("cost") == "cost_estimate"
    assert reports.metric("latency") == "generation_time_ms"
    assert reports.unit("cost") == "USD" and reports.unit("completion_tokens") == "tokens"


def test_a_list_of_experiment_ids_is_a_scope(repo: Repo) -> None:
    ids = [e.id for e in hand_log() if e.model == "m2"]  # fresh ids: none of them logged
    assert reports.cost(repo.query, "alice", ids).empty
    logged = repo.history(user_id="alice", sweep_id=SWEEP, model="m2")["id"].tolist()
    cost = reports.cost(repo.query, "alice", logged)
    assert cost["model"].tolist() == ["m2"] and cost["calls"].tolist() == [4]


def test_answers_give_a_column_to_runs_that_sent_no_value(tmp_path: Path) -> None:
    repo = DuckDBExperimentRepository(tmp_path / "nulls.duckdb")
    repo.add([make_experiment(parameters=ModelParameters(temperature=t), response=f"t={t}",
                              sweep_id="s") for t in (None, 0.5)])
    df = reports.answers(repo.query, "alice", "s", column="temperature")
    assert df.to_dict("records") == [{"temperature=0.5": "t=0.5", "temperature=default": "t=None"}]


def test_answers_read_only_the_newest_rows(repo: Repo) -> None:
    # the two newest ok runs (m2 at temperature 1.0) and the failed run logged after them
    df = reports.answers(repo.query, "alice", SWEEP, rows=2)
    assert sorted(df.index.tolist()) == [(0.0, 2), (1.0, 0), (1.0, 1)]
    assert df.loc[(1.0, 0), "m2"] == "one" and df.loc[(0.0, 2), "m1"].startswith("[error]")
