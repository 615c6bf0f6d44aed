"""Deterministic scorers inline: a 10,000-cell simulated sweep with four scorers against the same
sweep without them (target ≤ 1.10× wall time); and judge sweeps against the loopback server:
the wall time of N judge calls (pg.score of a finished sweep) ÷ N·L/C (target ≤ 1.15, the
same as plain sweeps in bench/sweep.py).

    .venv/bin/python bench/scoring.py [cells]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sweep import stub_process

from nbplayground import Playground
from nbplayground import scorers as s
from nbplayground.configuration import Endpoint


def main(n: int = 10_000) -> None:
    rows = [{"i": i, "word": f"answer{i % 7}"} for i in range(n)]
    four = [s.contains("{word}"), s.regex(r"^[A-Z]"), s.json_valid(),
            s.similarity("{word}", metric="fuzzy_match")]
    with tempfile.TemporaryDirectory() as tmp:
        times = {}
        for label, scorers in (("warm-up", None), ("unscored", None), ("scored", four),
                               ("unscored again", None), ("scored again", four)):
            pg = Playground(db=Path(tmp) / f"{label}.duckdb", user="bench",
                            provider="simulated", simulated_latency=0)
            t0 = time.perf_counter()
            pg.sweep("Item {i}", vars=rows, max_tokens=16, concurrency=64, progress=False,
                     scorers=scorers, refresh=True)
            times[label] = time.perf_counter() - t0
            print(f"{label:15s} {times[label]:.2f} s")
        plain = min(times["unscored"], times["unscored again"])
        scored = min(times["scored"], times["scored again"])
        print(f"{n} cells, 4 deterministic scorers: {scored:.2f} s vs {plain:.2f} s unscored "
              f"= {scored / plain:.3f}x (target ≤ 1.10)")


def judges(latency: float = 0.1, n: int = 1000, c: int = 50, runs: int = 3) -> None:
    """N judge calls at concurrency C, each taking L at the server: wall ÷ N·L/C."""
    with stub_process(latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        pg = Playground(db=Path(tmp) / "judges.duckdb", user="bench",
                        provider=Endpoint(base_url=base_url, api_key="sk-bench"))
        rows = [{"i": i} for i in range(n)]
        sw = pg.sweep("Item {i}", vars=rows, model="gpt-4o-mini", max_tokens=16,
                      concurrency=c, progress=False, refresh=True)
        pg.score(sw, scorers=[s.judge("Warm up: is {answer} fine?", model="gpt-4o-mini")],
                 concurrency=c, progress=False)
        ratios: dict[str, list[float]] = {"plain": [], "judges": []}
        ideal = n * latency / c
        for run in range(runs):
            t0 = time.perf_counter()  # a plain sweep of n fresh cells, at the same moment
            pg.sweep(f"Run {run} item {{i}}", vars=rows, model="gpt-4o-mini", max_tokens=16,
                     concurrency=c, progress=False, refresh=True)
            ratios["plain"].append((time.perf_counter() - t0) / ideal)
            rubric = s.judge(f"Run {run}: is {{answer}} about item {{i}}?", model="gpt-4o-mini",
                             range=(0, 10))
            t0 = time.perf_counter()
            scored = pg.score(sw, scorers=[rubric], concurrency=c, progress=False)
            wall = time.perf_counter() - t0
            ratios["judges"].append(wall / ideal)
            ok = int(scored.scores()["score"].notna().sum())
            print(f"  C={c} N={n} L={latency} s: judges {wall:5.2f} s (ratio "
                  f"{ratios['judges'][-1]:5.3f}, {ok} verdicts), plain sweep ratio "
                  f"{ratios['plain'][-1]:5.3f}, ideal {ideal:5.2f} s")
        print(f"judge sweeps ÷ N·L/C: median {statistics.median(ratios['judges']):5.3f}; plain "
              f"sweeps at the same time {statistics.median(ratios['plain']):5.3f} "
              f"(over {runs} runs; target ≤ 1.15 for both)")
        pg.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    judges()
