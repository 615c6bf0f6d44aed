"""Soak: many sweeps against a faulty loopback server, killed at random, then resumed.

Prints rows expected / rows found / duplicates / calls made beyond the minimum.

    .venv/bin/python bench/soak.py --rounds 40 --cells 400
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.openai_stub import OpenAIStub  # noqa: E402

SWEEP = textwrap.dedent("""
    import sys
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint
    db, url, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    pg = Playground(db=db, user="soak", provider=Endpoint(base_url=url, api_key="sk-soak",
                                                          timeout=1.0))
    pg.set_limits(rpm=10**9)
    pg.sweep([f"soak {seed} cell {i}" for i in range(n)], temperature=[0.0, 1.0],
             concurrency=8, progress=False)
""")


def count(db: Path) -> tuple[int, int, int]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(
            "select count(*) filter (where status = 'ok'), "
            "count(distinct cache_key) filter (where status = 'ok'), "
            "count(*) filter (where status = 'error') from experiments").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--sweeps", type=int, default=3, help="distinct sweeps, re-run in turn")
    args = parser.parse_args()
    rng = random.Random(1)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NBPLAYGROUND_PLAN": "team"}
    with tempfile.TemporaryDirectory() as tmp, OpenAIStub(latency=0.02) as stub:
        db = Path(tmp) / "soak.duckdb"
        stub.fail_every(9, status=429, headers={"retry-after-ms": "30"})
        kills = 0
        t0 = time.perf_counter()
        for r in range(args.rounds):
            seed = r % args.sweeps
            if rng.random() < 0.3:
                stub.fail_next(500, times=rng.randint(1, 4))
            if rng.random() < 0.2:
                stub.stall_next(2.0)
            proc = subprocess.Popen([sys.executable, "-c", SWEEP, str(db), stub.base_url,
                                     str(args.cells), str(seed)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if rng.random() < 0.6:
                target = stub.count("/v1/chat/completions") + rng.randint(10, args.cells)
                while stub.count("/v1/chat/completions") < target and proc.poll() is None:
                    time.sleep(0.005)
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
            _, err = proc.communicate()
            if proc.returncode not in (0, -signal.SIGKILL):
                print(f"round {r}: exit {proc.returncode}: {err.decode()[-500:]}")
        # Finish every sweep: afterwards each cell has exactly one ok row.
        for seed in range(min(args.sweeps, args.rounds)):
            subprocess.run([sys.executable, "-c", SWEEP, str(db), stub.base_url,
                            str(args.cells), str(seed)], env=env, check=True)
        ok, distinct, errors = count(db)
        expected = min(args.sweeps, args.rounds) * args.cells * 2
        calls = stub.count("/v1/chat/completions")
        print(f"{args.rounds} rounds, {kills} kill -9, {time.perf_counter() - t0:.0f} s")
        print(f"rows expected {expected} / rows found {ok} / duplicates {ok - distinct} / "
              f"error rows {errors} (final faults, logged)")
        print(f"requests sent {calls} for {expected} cells: {calls - expected} retries and "
              "re-sent cells (in flight or unacknowledged at a kill)")


if __name__ == "__main__":
    main()
