"""Bench the reports and chart data queries on a synthetic log of 1,000,000 experiments.

Usage: python bench/analytics.py [rows] [path]. Builds the log with the real store (the
repository's own transaction helper, one DataFrame append per 100k rows), then times each
report and chart query for one sweep (1,000 rows) and for the user's whole log (~900k rows).
Target: <= 300 ms each.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nbplayground.adapters.duckdb import DuckDBExperimentRepository, frames, rows
from nbplayground.analytics import reports
from nbplayground.domain import Experiment, ModelParameters, ResponseMetrics, as_messages
from nbplayground.ui import charts

TARGET_MS = 300.0
SWEEP = 1000  # rows per sweep: 4 prompts x 5 models x 5 temperatures x 10 repeats
MODELS = np.array(["gpt-4o-mini", "gpt-4.1-nano", "gpt-4.1-mini", "gpt-4o", "smollm2"])
PRICE = np.array([0.6, 0.4, 1.6, 10.0, 0.0]) / 1e6  # USD per completion token, roughly
TEMPS = np.array([0.0, 0.4, 0.8, 1.2, 1.6])
USERS = np.array(["alice"] * 36 + ["bob", "carol", "dave", "erin"])  # alice: 90% of sweeps
CHUNK = 100_000


def synthetic(start: int, n: int, rng: np.random.Generator, answers: np.ndarray,
              prompts: np.ndarray) -> pd.DataFrame:
    i = np.arange(start, start + n)
    sweep, cell = i // SWEEP, i % SWEEP
    model = cell // 10 % 5
    temp = cell // 50 % 5
    prompt = (sweep * 4 + cell // 250) % len(prompts)
    completion = np.clip((20 + 40 * TEMPS[temp] + rng.normal(0, 8, n)).astype(int), 1, 256)
    prompt_tokens = 20 + prompt % 180
    error = rng.random(n) < 0.01
    ms = rng.lognormal(6.0, 0.5, n)
    cost = np.where(error, np.nan, completion * PRICE[model] + prompt_tokens * PRICE[model] / 4)
    day0 = datetime(2025, 1, 1, tzinfo=UTC)
    created = pd.to_datetime(day0) + pd.to_timedelta(i * (180 * 86400 / 1_000_000), unit="s")
    df = pd.DataFrame({
        "id": [f"bench-{k:09d}" for k in i],
        "user_id": USERS[sweep % len(USERS)], "sweep_id": [f"sw-{s:06d}" for s in sweep],
        "model": MODELS[model], "provider": np.where(model == 4, "local", "openai"),
        "prompt": prompts[prompt], "system": None,
        "response": np.where(error, "", answers[rng.integers(0, len(answers), n)]),
        "temperature": TEMPS[temp], "max_tokens": 256, "top_p": 1.0,
        "frequency_penalty": 0.0, "presence_penalty": 0.0, "seed": pd.NA,
        "repeat": cell % 10, "prompt_tokens": prompt_tokens,
        "completion_tokens": np.where(error, 0, completion),
        "token_count": prompt_tokens + np.where(error, 0, completion),
        "generation_time_ms": ms, "cost_estimate": cost,
        "status": np.where(error, "error", "ok"),
        "error": np.where(error, "429 rate limited", None), "created_at": created,
    })
    for name, sql in rows.EXPERIMENT_COLUMNS:  # the store's own column types
        if name not in df:
            df[name] = None
        df[name] = df[name].astype(frames.DTYPES[sql]) if sql != "DATE" else df[name]
    return df[rows.names(rows.EXPERIMENT_COLUMNS)]


def build(repo: DuckDBExperimentRepository, n: int) -> None:
    rng = np.random.default_rng(7)
    vocab = np.array([f"w{k}" for k in range(300)] + ["the", "a", "duck", "row", "query"])
    answers = np.array([" ".join(rng.choice(vocab, rng.integers(5, 60)))
                        for _ in range(5000)])
    prompts = np.array([f"Prompt {k}: write about topic {k % 37}" for k in range(400)])
    cols = ", ".join(rows.names(rows.EXPERIMENT_COLUMNS))
    making = writing = 0.0
    for start in range(0, n, CHUNK):
        t = time.perf_counter()
        df = synthetic(start, min(CHUNK, n - start), rng, answers, prompts)
        making += time.perf_counter() - t

        def work(conn: Any, df: pd.DataFrame = df) -> None:
            conn.register("_bench", df)
            conn.execute(f"INSERT INTO experiments ({cols}) SELECT {cols} FROM _bench")

        t = time.perf_counter()
        repo.log.run(work)  # the store's own open/transaction/commit/close, one per 100k rows
        writing += time.perf_counter() - t
    print(f"built {n:,} rows: generating DataFrames {making:.1f} s; appending them through "
          f"the store {writing:.1f} s ({n / writing:,.0f} rows/s)")


def batch_add_rate(path: Path, n: int = 5000) -> None:
    """The repository's batch add (Experiment objects) on a scratch file, for comparison."""
    messages = as_messages("Write a haiku about DuckDB.")
    exps = [Experiment(id=f"x{k}", user_id="alice", model="gpt-4o-mini", provider="openai",
                       messages=messages, parameters=ModelParameters(temperature=0.7),
                       response="Ducks in a column, quacking through a billion rows",
                       metrics=ResponseMetrics(prompt_tokens=20, completion_tokens=30,
                                               generation_time_ms=400.0, cost_estimate=2e-5))
            for k in range(n)]
    repo = DuckDBExperimentRepository(path)
    t0 = time.perf_counter()
    repo.add(exps)
    took = time.perf_counter() - t0
    print(f"repository.add({n:,} Experiments): {took:.2f} s → {n / took:,.0f} rows/s "
          f"(1M rows would take ~{1_000_000 / (n / took):.0f} s plus building the objects)")


def timed(fn: Callable[[], Any], runs: int = 5) -> float:
    fn()  # warm: first open of the file, migration check
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def cases(q: reports.Query, sw: reports.SweepScope) -> dict[str, Callable[[], Any]]:
    u = "alice"
    return {
        "report pivot": lambda: reports.pivot(q, u, sw),
        "report cost by model": lambda: reports.cost(q, u, sw, "model"),
        "report cost by day": lambda: reports.cost(q, u, sw, "day"),
        "report cost by user (all users)": lambda: reports.cost(q, None, sw, "user"),
        "report latency": lambda: reports.latency(q, u, sw),
        "report length": lambda: reports.length(q, u, sw),
        "report variety": lambda: reports.variety(q, u, sw),
        "report answers (by model)": lambda: reports.answers(q, u, sw, limit=100),
        "chart compare data": lambda: reports.compare(q, u, sw, "temperature",
                                                      "completion_tokens", "model"),
        "chart cost data": lambda: reports.cost(q, u, sw, ["user", "model"]),
        "chart spend data": lambda: reports.cost(q, u, sw, ["day", "model"]),
        "chart latency data": lambda: reports.latency(q, u, sw, "model"),
        "chart tokens_cost data": lambda: reports.tokens_cost(q, u, sw),
        "compare figure (data + plotly)": lambda: charts.compare(
            reports.compare(q, u, sw, "temperature", "completion_tokens", "model"),
            "temperature", "completion_tokens", "model"),
        "tokens_cost figure (data + plotly)": lambda: charts.tokens_vs_cost(
            reports.tokens_cost(q, u, sw)),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = Path(tempfile.mkdtemp(prefix="nbpg-bench-"))
    path = Path(sys.argv[2]) if len(sys.argv) > 2 else folder / "bench.duckdb"
    batch_add_rate(folder / "scratch.duckdb")
    repo = DuckDBExperimentRepository(path)
    if not path.exists():
        build(repo, n)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB; "
          f"bare open + SELECT 1: {timed(lambda: repo.query('SELECT 1')):.1f} ms")
    total = repo.query("SELECT count(*) AS n, count_if(user_id = 'alice') AS a FROM experiments")
    print(f"{int(total.at[0, 'n']):,} rows, {int(total.at[0, 'a']):,} of them alice's\n")
    worst = 0.0
    ids = repo.query("SELECT id FROM experiments WHERE sweep_id = 'sw-000450'", [])["id"]
    scopes: list[tuple[str, reports.SweepScope]] = [
        ("one sweep by id (1,000 rows)", "sw-000000"),
        ("one Sweep object (its 1,000 experiment ids)", ids.tolist()),
        ("alice's whole log", None)]
    for label, sw in scopes:
        print(f"-- {label}")
        for name, fn in cases(repo.query, sw).items():
            ms = timed(fn)
            worst = max(worst, ms)
            flag = "" if ms <= TARGET_MS else "  <-- over target"
            print(f"  {name:38s} {ms:8.1f} ms   {ms / TARGET_MS:5.2f}x of 300 ms{flag}")
    print(f"\nworst: {worst:.0f} ms ({worst / TARGET_MS:.2f}x of the 300 ms target)")
    shutil.rmtree(folder, ignore_errors=True)  # the scratch file, and the log unless given


if __name__ == "__main__":
    main()
