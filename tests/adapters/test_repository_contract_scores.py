"""The scores part of the ExperimentRepository contract, over the fake, DuckDB and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nbplayground.evaluation import Score
from tests.adapters.test_repository_contract import postgres_repo, repo  # noqa: F401
from tests.factories import make_experiment

Repo = Any

COLUMNS = ["experiment_id", "sweep_id", "scorer", "kind", "score", "passed", "reason",
           "judge_experiment_id", "created_at"]


def judged_by(repo: Repo) -> dict[str, str]:  # noqa: F811
    """judge's experiment id -> the experiment it judged, as the log marks them."""
    if not hasattr(repo, "query"):
        return dict(repo.judged)
    found = repo.query("SELECT id, judged_experiment_id FROM experiments "
                       "WHERE role = 'judge'")
    return dict(zip(found["id"], found["judged_experiment_id"], strict=True))


def test_scores_are_written_with_their_cells_and_read_back(repo: Repo) -> None:  # noqa: F811
    cell, judge = make_experiment(sweep_id="s1"), make_experiment(sweep_id="s1-judges")
    scores = [Score(cell.id, "contains", "string_check", 0.0, False, "no Paris", None, "s1"),
              Score(cell.id, "judge", "score_model", 0.75, True, "close", judge.id, "s1"),
              Score(cell.id, "broken", "python", None, False, "ValueError: x", None, "s1")]
    repo.add([cell, judge], scores=scores, sweep={"id": "s1", "total": 1})
    got = repo.scores(sweep_id="s1")
    assert list(got.columns) == COLUMNS
    assert got["scorer"].tolist() == ["contains", "judge", "broken"]
    assert got["score"].tolist()[:2] == [0.0, 0.75] and pd.isna(got["score"].iloc[2])
    assert got["passed"].tolist() == [False, True, False]
    assert got["judge_experiment_id"].iloc[1] == judge.id
    assert str(got["score"].dtype) == "float64" and str(got["passed"].dtype) == "bool"
    assert judged_by(repo) == {judge.id: cell.id}
    assert repo.scores(sweep_id="other").empty
    assert len(repo.scores(experiment_ids=[cell.id])) == 3
    assert repo.scores(experiment_ids=[judge.id]).empty
    assert repo.scores(user_id="someone else").empty


def test_a_newer_score_replaces_the_one_of_the_same_sweep_and_scorer(repo: Repo  # noqa: F811
                                                                     ) -> None:
    cell = make_experiment()
    repo.add([cell], scores=[Score(cell.id, "judge", "score_model", 0.2, False, "a", None,
                                   "s1")])
    repo.add([], scores=[Score(cell.id, "judge", "score_model", 0.9, True, "b", None, "s1"),
                         Score(cell.id, "judge", "score_model", 0.5, True, "c", None, "s2")])
    assert repo.scores(sweep_id="s1")[["score", "reason"]].values.tolist() == [[0.9, "b"]]
    assert len(repo.scores(experiment_ids=[cell.id])) == 2
    assert repo.get(cell.id) == cell  # scoring does not touch the cell


def test_a_large_batch_keeps_its_order_and_a_later_one_replaces_only_its_own_keys(
        repo: Repo) -> None:  # noqa: F811
    cells = [make_experiment() for _ in range(300)]
    judge = make_experiment(sweep_id="s1-judges")
    repo.add([*cells, judge])  # the judge's call logged before its verdict (a cached one)
    names = ["exact", "regex", "fuzzy"]
    first = [Score(c.id, n, "string_check", float(i % 2), bool(i % 2), None, None, sweep)
             for i, c in enumerate(reversed(cells)) for n in names for sweep in ("s1", None)]
    repo.add([], scores=first)
    assert repo.scores(sweep_id="s1")[["experiment_id", "scorer"]].values.tolist() == [
        [sc.experiment_id, sc.scorer] for sc in first if sc.sweep_id == "s1"]
    again = [Score(cells[0].id, "regex", "regex", 0.5, True, "again", None, None),
             Score(cells[1].id, "judge", "score_model", 0.8, True, "ok", judge.id, "s1")]
    repo.add([], scores=again)
    mine = repo.scores(experiment_ids=[cells[0].id])
    assert len(mine) == 6  # the sweep-less regex score replaced, the rest kept
    kept = mine[mine["sweep_id"].isna() & (mine["scorer"] == "regex")]
    assert kept["reason"].tolist() == ["again"]
    assert len(repo.scores(sweep_id="s1")) == 3 * 300 + 1
    assert judged_by(repo) == {judge.id: cells[1].id}


def test_a_judge_call_is_marked_whether_it_is_logged_with_its_verdict_or_before(
        repo: Repo) -> None:  # noqa: F811
    """A judge call written in the verdict's batch is marked as it is inserted; one logged
    before (a verdict taken from the log) is marked when its verdict comes; a call whose
    verdict has not come is not a judge's yet."""
    a, b, c = (make_experiment(sweep_id="s1") for _ in range(3))
    early, fresh, pending = (make_experiment(sweep_id="s1-judges") for _ in range(3))
    repo.add([a, b, c, early])
    repo.add([fresh, pending], scores=[
        Score(a.id, "judge", "score_model", 0.5, True, "ok", early.id, "s1"),
        Score(b.id, "judge", "score_model", 0.25, False, "meh", fresh.id, "s1")])
    assert judged_by(repo) == {early.id: a.id, fresh.id: b.id}
    repo.add([], scores=[Score(c.id, "judge", "score_model", 1.0, True, "yes", pending.id,
                               "s1")])
    assert judged_by(repo) == {early.id: a.id, fresh.id: b.id, pending.id: c.id}
    assert len(repo.scores(sweep_id="s1")) == 3
