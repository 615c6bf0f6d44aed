"""Two kernels sweep into one log while a third reads history(): every row kept, no lock error."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent("""
    import sys
    from nbplayground import Playground
    pg = Playground(db=sys.argv[1], user=sys.argv[2], provider="simulated",
                    simulated_latency=0.002)
    for round in range(int(sys.argv[3])):
        sw = pg.sweep([f"{sys.argv[2]} round {round} cell {i}" for i in range(40)],
                      concurrency=8, progress=False)
        assert sw.count("ok") == 40, sw.summary()
    print("done")
""")

READER = textwrap.dedent("""
    import sys, time
    from nbplayground import Playground
    pg = Playground(db=sys.argv[1], user="alice", provider="simulated")
    seen = 0
    deadline = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        seen = max(seen, len(pg.history()))
        time.sleep(0.05)
    print("seen", seen)
""")


def test_two_writers_and_a_reader_share_one_log(tmp_path: Path) -> None:
    db = tmp_path / "shared.duckdb"
    env = {**os.environ, "PYTHONPATH": "src"}
    rounds = 5
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), user, str(rounds)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for user in ("alice", "bob")]
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), "6"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for p in [*procs, reader]:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
        assert "Lock" not in err and "lock" not in err, err[-2000:]
    with duckdb.connect(str(db), read_only=True) as conn:
        total, distinct = conn.execute(
            "select count(*), count(distinct id) from experiments").fetchone()  # type: ignore[misc]
        per_user = dict(conn.execute(
            "select user_id, count(*) from experiments group by 1").fetchall())
    assert total == distinct == 2 * rounds * 40
    assert per_user == {"alice": rounds * 40, "bob": rounds * 40}
