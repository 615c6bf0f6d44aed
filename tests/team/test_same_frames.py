"""The read models of the team log return the file log's DataFrames, value for value and dtype
for dtype, for the same rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nbplayground import Playground
from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.adapters.postgres import PostgresUsageLedger
from nbplayground.domain import ModelParameters, ResponseMetrics
from tests.factories import make_experiment, make_request
from tests.team.conftest import Team


def test_history_reports_and_usage_are_the_same_frames(team: Team, tmp_path: Path) -> None:
    experiments = [
        make_experiment(user_id="alice", model=model, sweep_id="s1", response=f"answer {i}",
                        parameters=ModelParameters(temperature=t, seed=i),
                        metrics=ResponseMetrics(prompt_tokens=10 + i, completion_tokens=i,
                                                generation_time_ms=100.0 + i,
                                                cost_estimate=None if i == 3 else 1e-5 * i))
        for i, (model, t) in enumerate([("gpt-4o-mini", 0.0), ("gpt-4o-mini", 0.7),
                                        ("gpt-4.1-nano", 0.0), ("gpt-4.1-nano", 0.7)])]
    experiments.append(make_experiment(user_id="alice", status="error", error="boom",
                                       error_type="ServerFailed", response=""))
    requests = [make_request(e) for e in experiments]
    usage = [{"id": e.id, "user_id": "alice", "experiment_id": e.id, "model": e.model,
              "provider": "openai", "prompt_tokens": 10, "completion_tokens": 5,
              "cost": 0.001, "created_at": e.timestamp} for e in experiments]
    file_log = tmp_path / "log.duckdb"
    DuckDBExperimentRepository(file_log).add(experiments, requests, usage=usage,
                                             sweep={"id": "s1", "user_id": "alice", "total": 4})
    owner = PostgresUsageLedger(team.owner)
    owner.add(experiments, requests, usage=usage,
              sweep={"id": "s1", "user_id": "alice", "total": 4})
    owner.close()
    with Playground(db=file_log, user="alice", provider="simulated") as local, \
            Playground(db=team.dsn("alice"), provider="simulated") as shared:
        pd.testing.assert_frame_equal(shared.history(), local.history())
        pd.testing.assert_frame_equal(shared.history(search="ANSWER 2"),
                                      local.history(search="ANSWER 2"))
        pd.testing.assert_frame_equal(shared.repository.requests(),
                                      local.repository.requests())
        for kind, opts in (("cost", {"by": "model"}), ("latency", {"by": "model"}),
                           ("pivot", {"by": ["model", "temperature"]})):
            pd.testing.assert_frame_equal(shared.report(kind, "s1", **opts),
                                          local.report(kind, "s1", **opts))
        for by in ("day", "model", "user"):
            pd.testing.assert_frame_equal(shared.usage(by), local.usage(by))
