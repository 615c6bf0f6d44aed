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
