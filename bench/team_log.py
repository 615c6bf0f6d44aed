"""The team log (PostgreSQL) against the file log (DuckDB): the same sweep, and one run's write.

    .venv/bin/python bench/team_log.py [runs]

Starts a private PostgreSQL cluster (tests/support/postgres.py, fsync on) and the loopback
OpenAI stub, then sweeps N=1000 cells at C=50 (L = 50 ms) into a DuckDB file and into the team
log, alternately, and prints the wall-time ratio (target <= 1.10). Budgets are held in the
database on the team log (a billable endpoint), in the process on the file log. Then times
one run's transaction (one experiment, its request and its usage row) on each.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sweep import stub_process  # noqa: E402

from nbplayground import Playground, team  # noqa: E402
from nbplayground.configuration import Endpoint  # noqa: E402
from tests.factories import make_experiment, make_request  # noqa: E402
from tests.support.postgres import private_cluster  # noqa: E402

LATENCY, N, C = 0.05, 1000, 50


def sweep_wall(pg: Playground, tag: str) -> float:
    t0 = time.perf_counter()
    sw = pg.sweep([f"{tag} cell {i}" for i in range(N)], concurrency=C, max_tokens=16,
                  progress=False, refresh=True)
    wall = time.perf_counter() - t0
    assert sw.count("ok") == N, sw.summary()
    return wall


def transaction_ms(repo: object, user: str, n: int = 200) -> float:
    times = []
    for _ in range(n):
        e = make_experiment(user_id=user)
        usage = [{"id": e.id, "user_id": user, "experiment_id": e.id, "model": e.model,
                  "provider": "openai", "prompt_tokens": 27, "completion_tokens": 19,
                  "cost": 1e-5}]
        t0 = time.perf_counter()
        repo.add([e], [make_request(e)], usage=usage)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(runs: int) -> None:
    with private_cluster(fsync=True) as cluster, stub_process(LATENCY) as base_url, \
            tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        team.init(cluster.dsn(), users={"bench": "pw-bench"}, admins={"boss": "pw-boss"},
                  plan="team")
        print(f"team init: {time.perf_counter() - t0:.2f} s")
        endpoint = Endpoint(base_url=base_url, api_key="sk-bench")
        with Playground(db=cluster.dsn("boss", "pw-boss"), provider="simulated") as boss:
            boss.set_limits(rpm=10**9, daily_usd=10**6, monthly_usd=10**6,
                            daily_tokens=10**12, user="bench")
        file_pg = Playground(db=Path(tmp) / "bench.duckdb", user="bench", provider=endpoint)
        file_pg.set_limits(rpm=10**9)
        team_pg = Playground(db=cluster.dsn("bench", "pw-bench"), provider=endpoint)
        for pg in (file_pg, team_pg):
            pg.sweep(["warm up"], progress=False, refresh=True)
        walls: dict[str, list[float]] = {"file": [], "team": []}
        for run in range(runs):
            for name, pg in (("file", file_pg), ("team", team_pg)):
                walls[name].append(sweep_wall(pg, f"{name} run {run}"))
                print(f"  {name} run {run}: wall {walls[name][-1]:6.3f} s "
                      f"(ideal {N * LATENCY / C:.2f} s)")
        f, t = statistics.median(walls["file"]), statistics.median(walls["team"])
        print(f"sweep N={N} C={C} L={LATENCY}s: file log median {f:.3f} s, team log median "
              f"{t:.3f} s, ratio {t / f:.3f} (target <= 1.10)")
        print(f"one run's transaction (experiment + request + usage), median of 200: "
              f"file log {transaction_ms(file_pg.repository, 'bench'):.2f} ms, "
              f"team log {transaction_ms(team_pg.repository, 'bench'):.2f} ms")
        file_pg.close()
        team_pg.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
