"""Deterministic scorers inline: a 10,000-cell simulated sweep with four scorers against the same
sweep without them (target ≤ 1.10× wall time); and judge sweeps against the loopback server:
the wall time of N judge calls (pg.score of a finished sweep) ÷ N·L/C, beside plain sweeps of
N cells run in turn with them (target: the same ratio as plain sweeps; ≤ 1.15 on an idle
machine), and a sweep with a judge scorer (N cells then N judge calls) ÷ 2·N·L/C.

The machine may be shared: each figure is the median over rounds in which the two runs being
compared alternate (which goes first alternates too), with the CPU time of the process beside
the wall time, and the ratio is the median of each round's own ratio.

    .venv/bin/python bench/scoring.py [cells] [rounds]     # both parts
    .venv/bin/python bench/scoring.py deterministic [cells] [rounds]
    .venv/bin/python bench/scoring.py judges [runs]
    .venv/bin/python bench/scoring.py one scored|unscored [cells]
        # one sweep in this process (after a warm-up), for timing whole processes A/B
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sweep import stub_process

from nbplayground import Playground
from nbplayground import scorers as s
from nbplayground.configuration import Endpoint


def _four() -> list[Any]:
    return [s.contains("{word}"), s.regex(r"^[A-Z]"), s.json_valid(),
            s.similarity("{word}", metric="fuzzy_match")]


def _rows(n: int) -> list[dict[str, Any]]:
    return [{"i": i, "word": f"answer{i % 7}"} for i in range(n)]


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall, CPU) seconds of fn(); CPU is the whole process's (the log writer's thread too).
    A full garbage collection first (not timed): the one the run before left due (the heap
    grows by each run's results) would land in whichever call comes next, 0.3-0.5 s here."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _simulated(tmp: str, label: str) -> Playground:
    return Playground(db=Path(tmp) / f"{label}.duckdb", user="bench", provider="simulated",
                      simulated_latency=0)


def main(n: int = 10_000, rounds: int = 3) -> None:
    rows, four = _rows(n), _four()
    with tempfile.TemporaryDirectory() as tmp:
        warm = _simulated(tmp, "warm-up")  # imports, prices, the first log file
        warm.sweep("Warm {i}", vars=rows[:500], max_tokens=16, concurrency=64, progress=False,
                   scorers=four, refresh=True)
        warm.close()
        got: dict[str, list[tuple[float, float]]] = {"unscored": [], "scored": []}
        for r in range(rounds):
            order = ("unscored", "scored") if r % 2 == 0 else ("scored", "unscored")
            for label in order:
                pg = _simulated(tmp, f"{label}-{r}")
                wall, cpu = _timed(lambda: pg.sweep(  # noqa: B023 - called at once
                    "Item {i}", vars=rows, max_tokens=16, concurrency=64, progress=False,
                    scorers=four if label == "scored" else None,  # noqa: B023
                    refresh=True))
                pg.close()
                got[label].append((wall, cpu))
                print(f"  round {r}: {label:8s} wall {wall:5.2f} s, CPU {cpu:5.2f} s")
        for k, what in ((0, "wall"), (1, "CPU")):
            plain = statistics.median(t[k] for t in got["unscored"])
            scored = statistics.median(t[k] for t in got["scored"])
            ratio = statistics.median(a[k] / b[k] for a, b in
                                      zip(got["scored"], got["unscored"], strict=True))
            print(f"{n} cells, 4 deterministic scorers, {what}: {scored:.2f} s vs {plain:.2f} s "
                  f"unscored (medians of {rounds}); ratio {ratio:.3f}x (target ≤ 1.10)")


def one(label: str, n: int = 10_000) -> None:
    """One sweep after a warm-up, its in-process figures printed (for whole-process A/B)."""
    rows = _rows(n)
    scorers = _four() if label == "scored" else None
    with tempfile.TemporaryDirectory() as tmp:
        pg = _simulated(tmp, label)
        pg.sweep("Warm {i}", vars=rows[:500], max_tokens=16, concurrency=64, progress=False,
                 scorers=scorers, refresh=True)
        wall, cpu = _timed(lambda: pg.sweep("Item {i}", vars=rows, max_tokens=16,
                                            concurrency=64, progress=False, scorers=scorers,
                                            refresh=True))
        print(f"{label} {n} cells: wall {wall:.3f} s, CPU {cpu:.3f} s")
        pg.close()


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
        got: dict[str, list[tuple[float, float]]] = {"plain": [], "judges": [], "sweep": []}
        ideal = n * latency / c

        def plain(run: int) -> None:  # a plain sweep of n fresh cells, at the same moment
            pg.sweep(f"Run {run} item {{i}}", vars=rows, model="gpt-4o-mini", max_tokens=16,
                     concurrency=c, progress=False, refresh=True)

        def judged(run: int) -> None:
            rubric = s.judge(f"Run {run}: is {{answer}} about item {{i}}?",
                             model="gpt-4o-mini", range=(0, 10))
            scored = pg.score(sw, scorers=[rubric], concurrency=c, progress=False)
            assert int(scored.scores()["score"].notna().sum()) == n, "a verdict is missing"

        def with_judge(run: int) -> None:  # n cells, then a judge call for each: 2n calls
            rubric = s.judge(f"Sweep {run}: is {{answer}} fine?", model="gpt-4o-mini")
            pg.sweep(f"Judged run {run} item {{i}}", vars=rows, model="gpt-4o-mini",
                     max_tokens=16, concurrency=c, progress=False, refresh=True,
                     scorers=[rubric])

        for run in range(runs):
            order = [("plain", plain), ("judges", judged), ("sweep", with_judge)]
            for label, fn in order if run % 2 == 0 else order[::-1]:
                wall, cpu = _timed(lambda: fn(run))  # noqa: B023 - called at once
                got[label].append((wall / (ideal * (2 if label == "sweep" else 1)), cpu))
            print(f"  C={c} N={n} L={latency} s, run {run}: "
                  + ", ".join(f"{k} ratio {v[-1][0]:5.3f} (CPU {v[-1][1]:4.2f} s)"
                              for k, v in got.items()))
        med = {k: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
               for k, v in got.items()}
        print(f"judge calls (pg.score) ÷ N·L/C: median {med['judges'][0]:5.3f} "
              f"(CPU {med['judges'][1]:.2f} s); plain sweeps at the same time "
              f"{med['plain'][0]:5.3f} (CPU {med['plain'][1]:.2f} s); a sweep with a judge "
              f"÷ 2·N·L/C {med['sweep'][0]:5.3f} (CPU {med['sweep'][1]:.2f} s) "
              f"(over {runs} runs; target: judges the same as plain, ≤ 1.15 idle)")
        pg.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["one"]:
        one(args[1], int(args[2]) if len(args) > 2 else 10_000)
    elif args[:1] == ["judges"]:
        judges(runs=int(args[1]) if len(args) > 1 else 3)
    else:
        only = args[:1] == ["deterministic"]
        numbers = [int(a) for a in args[1:] if only] or [int(a) for a in args if not only]
        main(*numbers)
        if not only:
            judges()
