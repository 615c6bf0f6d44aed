"""Responses-API sweeps against the loopback stub: wall time ÷ (N·L/C), beside plain chat.

    .venv/bin/python bench/responses.py [--latency 0.1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep import stub_process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint

    latency = args.latency
    print(f"sweep wall time ÷ (N·L/C), L = {latency} s, default settings (target ≤ 1.15)")
    with stub_process(latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        pg = Playground(db=Path(tmp) / "bench.duckdb", user="bench",
                        provider=Endpoint(base_url=base_url, api_key="sk-bench"))
        pg.sweep(["warm up"], api="responses", progress=False, refresh=True)
        for api in ("chat", "responses"):
            for c, n in ((16, 500), (50, 1000)):
                t0 = time.perf_counter()
                sw = pg.sweep([f"bench {api} {c} cell {i}" for i in range(n)], api=api,
                              concurrency=c, max_tokens=16, progress=False, refresh=True)
                wall = time.perf_counter() - t0
                ideal = n * latency / c
                print(f"  api={api:<9} C={c:<3} N={n:<5} wall {wall:6.2f} s  ideal {ideal:6.2f} s"
                      f"  ratio {wall / ideal:5.3f}  ok={sw.count('ok')}")
        pg.close()


if __name__ == "__main__":
    main()
