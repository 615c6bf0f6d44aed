"""Sweep throughput against the loopback stub: wall time ÷ (N·L/C), and whole-process calls/s.

    .venv/bin/python bench/sweep.py            # the ratio table and the whole-process figure
    .venv/bin/python bench/sweep.py --promptfoo /path/to/node_modules/.bin/promptfoo
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def stub_process(latency: float, *, fast: bool = False) -> Iterator[str]:
    """The stub in its own process, so the server's threads don't share our GIL; `fast` is
    bench/fast_stub.py (one event loop), for hundreds in flight."""
    server = ["bench/fast_stub.py"] if fast else ["-m", "tests.support.openai_stub", "--port", "0"]
    proc = subprocess.Popen([sys.executable, *server, "--latency", str(latency)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("READY "), line
        yield line.split(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(10)


def floor(base_url: str, latency: float, concurrency: int, cells: int) -> float:
    """Bare aiohttp against the same server: the ratio no client can beat here."""
    import asyncio

    import aiohttp

    async def go() -> float:
        body = {"model": "gpt-4o-mini", "max_tokens": 16,
                "messages": [{"role": "user", "content": "floor"}]}
        gate = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as http:
            async def one() -> None:
                async with gate, http.post(f"{base_url}/chat/completions", json=body) as r:
                    await r.json()
            t0 = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(cells)))
            return time.perf_counter() - t0

    return asyncio.run(go()) / (cells * latency / concurrency)


def high_tier(latency: float = 1.0, concurrency: int = 256, cells: int = 2560) -> float:
    """What a real high-tier key needs: 10,000 requests a minute of 1.5 s answers is ~250 in
    flight. Default settings, target ≤ 1.10; against bench/fast_stub.py, whose floor (bare
    aiohttp) is printed next to it."""
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint

    with stub_process(latency, fast=True) as base_url, tempfile.TemporaryDirectory() as tmp:
        print(f"  floor (bare aiohttp, same server): ratio "
              f"{floor(base_url, latency, concurrency, cells):5.3f}")
        pg = Playground(db=Path(tmp) / "bench.duckdb", user="bench",
                        provider=Endpoint(base_url=base_url, api_key="sk-bench"))
        pg.sweep(["warm up"], progress=False, refresh=True)
        gc.collect()
        t0 = time.perf_counter()
        sw = pg.sweep([f"high tier cell {i}" for i in range(cells)], concurrency=concurrency,
                      max_tokens=16, progress=False, refresh=True)
        wall = time.perf_counter() - t0
        ideal = cells * latency / concurrency
        print(f"  C={concurrency} N={cells} L={latency} s: wall {wall:6.2f} s  ideal {ideal:6.2f} s"
              f"  ratio {wall / ideal:5.3f} (target ≤ 1.10)  ok={sw.count('ok')}")
        pg.close()
    return wall / ideal


def ratio_table(latency: float, runs_at_50: int = 5, *, fast: bool = False) -> None:
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint

    server = "bench/fast_stub.py" if fast else "the tests' threaded stub"
    print(f"sweep wall time ÷ (N·L/C), L = {latency} s, against {server} (target ≤ 1.15)")
    with stub_process(latency, fast=fast) as base_url, tempfile.TemporaryDirectory() as tmp:
        pg = Playground(db=Path(tmp) / "bench.duckdb", user="bench",
                        provider=Endpoint(base_url=base_url, api_key="sk-bench"))
        # Default settings: a user who chose no plan has no requests-per-minute cap of ours.
        # Steady state: tokenizer, price table and log file are loaded once per kernel.
        pg.sweep(["warm up"] * 1, progress=False, refresh=True)
        print(f"  floor at C=50 (bare aiohttp, same server): ratio "
              f"{floor(base_url, latency, 50, 1000):5.3f}")
        ratios: list[float] = []
        for c, n in ((1, 40), (4, 160), (16, 500)) + ((50, 1000),) * runs_at_50:
            gc.collect()  # not timed: the collection the run before left due (see scoring.py)
            t0 = time.perf_counter()
            sw = pg.sweep([f"bench {c} cell {i} run {len(ratios)}" for i in range(n)],
                          concurrency=c, max_tokens=16, progress=False, refresh=True)
            wall = time.perf_counter() - t0
            ideal = n * latency / c
            if c == 50:
                ratios.append(wall / ideal)
            print(f"  C={c:<3} N={n:<5} wall {wall:6.2f} s  ideal {ideal:6.2f} s  "
                  f"ratio {wall / ideal:5.3f}  ok={sw.count('ok')}  "
                  f"(before and after sending: {wall - sw.wall_time_s:5.3f} s)")
        print(f"  C=50 over {len(ratios)} runs: median {statistics.median(ratios):5.3f} "
              f"(min {min(ratios):5.3f}, max {max(ratios):5.3f}); each run after a full "
              "garbage collection (untimed) of what the runs before left")
        pg.close()


SCRIPT = textwrap.dedent("""
    import sys
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint
    pg = Playground(db=sys.argv[1], user="bench",
                    provider=Endpoint(base_url=sys.argv[2], api_key="sk-bench"))
    sw = pg.sweep([f"whole process {i}" for i in range(int(sys.argv[3]))], concurrency=40,
                  max_tokens=16, progress=False, refresh=True)
    assert sw.count("ok") == len(sw), sw.summary()
""")


def whole_process(latency: float, calls: int) -> float:
    with stub_process(latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", SCRIPT, str(Path(tmp) / "w.duckdb"), base_url,
                        str(calls)], check=True, cwd=ROOT)
        wall = time.perf_counter() - t0
    print(f"nbplayground, whole process: {calls} calls at C=40, L={latency} s: {wall:.2f} s "
          f"→ {calls / wall:.0f} calls/s")
    return calls / wall


def promptfoo(binary: str, latency: float, calls: int) -> float:
    with stub_process(latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        config = {
            "providers": [{"id": "openai:chat:gpt-4o-mini",
                           "config": {"apiBaseUrl": base_url, "apiKey": "sk-bench",
                                      "max_tokens": 16}}],
            "prompts": ["{{q}}"],
            "tests": [{"vars": {"q": f"promptfoo {i}"}} for i in range(calls)],
        }
        path = Path(tmp) / "promptfooconfig.json"
        path.write_text(json.dumps(config))
        env = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1",
               "PROMPTFOO_DISABLE_DEBUG_LOG": "1", "PROMPTFOO_CONFIG_DIR": tmp,
               "OPENAI_API_KEY": "sk-bench"}
        t0 = time.perf_counter()
        subprocess.run([binary, "eval", "-c", str(path), "-j", "40", "--no-cache",
                        "--no-progress-bar", "-o", str(Path(tmp) / "out.json")],
                       check=False, cwd=tmp, env=env, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        out = Path(tmp) / "out.json"
        done = _promptfoo_answers(out) if out.exists() else 0
    print(f"promptfoo, whole process: {calls} calls at -j 40, L={latency} s: {wall:.2f} s "
          f"→ {calls / wall:.0f} calls/s ({done} answers in its output)")
    if done != calls:
        raise SystemExit(f"promptfoo answered {done} of {calls} calls: its figure means nothing")
    return calls / wall


def _promptfoo_answers(out: Path) -> int:
    """The results in promptfoo's output file that carry an answer (not an error)."""
    results = json.loads(out.read_text()).get("results", {})
    rows = results.get("results", []) if isinstance(results, dict) else results
    return sum(1 for r in rows if (r.get("response") or {}).get("output"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--promptfoo", help="path to the promptfoo binary, to compare")
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--high-tier", action="store_true",
                        help="only the C=256, L=1.0 s, N=2560 row")
    parser.add_argument("--fast-stub", action="store_true",
                        help="the ratio table against bench/fast_stub.py (one event loop)")
    parser.add_argument("--runs-at-50", type=int, default=5,
                        help="C=50 sweeps to run (the machine is shared: their median counts)")
    args = parser.parse_args()
    if args.high_tier:
        high_tier()
        return
    if not args.skip_table:
        ratio_table(args.latency, args.runs_at_50, fast=args.fast_stub)
    ours = whole_process(args.latency, args.calls)
    if args.promptfoo:
        theirs = promptfoo(args.promptfoo, args.latency, args.calls)
        print(f"nbplayground ÷ promptfoo calls/s: {ours / theirs:.2f} (aim ≥ 2)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
