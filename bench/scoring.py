"""Deterministic scorers inline: a 10,000-cell simulated sweep with four scorers against the same
sweep without them (target ≤ 1.10× wall time).

    .venv/bin/python bench/scoring.py [cells]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from nbplayground import Playground
from nbplayground import scorers as s


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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
