"""Logging overhead: 100k experiments into a real DuckDB log (target ≤ 2 s, ≤ 1 ms each)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nbplayground.adapters.duckdb import DuckDBExperimentRepository  # noqa: E402
from tests.factories import make_experiment, make_request  # noqa: E402

N = 100_000


def main() -> None:
    exps = [make_experiment(prompt=f"prompt {i}") for i in range(N)]
    reqs = [make_request(e) for e in exps]
    with tempfile.TemporaryDirectory() as tmp:
        repo = DuckDBExperimentRepository(Path(tmp) / "log.duckdb")
        repo.add(exps[:10], reqs[:10])  # create and migrate the file first
        t0 = time.perf_counter()
        for i in range(10, N, 2000):  # the sweep writer's batches
            repo.add(exps[i:i + 2000], reqs[i:i + 2000])
        batched = time.perf_counter() - t0
        whole = DuckDBExperimentRepository(Path(tmp) / "whole.duckdb")
        whole.add(exps[:10], reqs[:10])
        t0 = time.perf_counter()
        whole.add(exps[10:], reqs[10:])
        one_batch = time.perf_counter() - t0
        t0 = time.perf_counter()
        for e, r in zip(exps[:50], reqs[:50], strict=True):
            repo.add([e.model_copy(update={"id": e.id + "-single"})],
                     [r.model_copy(update={"id": r.id + "-single"})])
        single = (time.perf_counter() - t0) / 50
    print(f"{N:,} experiments (+1 request each) in batches of 2,000: {batched:.2f} s "
          f"→ {batched / N * 1000:.3f} ms each (target 1 ms); ratio to 2 s: {batched / 2:.2f}")
    print(f"{N - 10:,} experiments (+1 request each) in one batch: {one_batch:.2f} s; "
          f"ratio to 2 s: {one_batch / 2:.2f}")
    print(f"one experiment per transaction (a single pg.run): {single * 1000:.0f} ms")


if __name__ == "__main__":
    main()
