"""SIGKILL at random points of a sweep, twenty times: nothing acknowledged is lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.experimentation.test_resume import SCRIPT
from tests.support.openai_stub import OpenAIStub

pytestmark = pytest.mark.slow

N = 2000
KILLS = 20
# The sweep of test_resume, telling on stdout each cell whose batch the log has committed.
REPORTING = SCRIPT.replace("pg.sweep(", """from nbplayground.events import ExperimentExecuted
pg.bus.subscribe(ExperimentExecuted, lambda e: print("committed", flush=True))
pg.sweep(""")


def state(db: Path) -> tuple[int, int, int]:
    if not db.exists():
        return 0, 0, 0
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(
            "select count(*) filter (where status = 'ok'), "
            "count(distinct cache_key) filter (where status = 'ok'), "
            "count(*) filter (where status is null or created_at is null or cache_key is null "
            "or (status = 'ok' and response is null)) from experiments").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_twenty_kills_then_resume(stub: OpenAIStub, db: Path, make_pg: Any) -> None:
    stub.latency = 0.02
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": "src"}
    for kill in range(KILLS):
        before = state(db)[0]
        proc = subprocess.Popen([sys.executable, "-c", REPORTING, str(db), stub.base_url,
                                 TEST_KEY, str(N)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        if kill % 4 == 3:  # every fourth kill lands after this run's first committed batch
            assert proc.stdout.readline() == "committed\n", proc.communicate()[1][-3000:]
        # then a random point of the sweep: after a random number of this run's requests
        target = stub.count("/v1/chat/completions") + rng.randint(5, 120)
        deadline = time.monotonic() + 60
        while stub.count("/v1/chat/completions") < target and time.monotonic() < deadline \
                and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        ok, distinct, broken = state(db)
        assert ok == distinct, "a cell was logged twice"
        assert broken == 0, "a half-written row"
        assert ok >= before, "acknowledged rows were lost"
    ok, _, _ = state(db)
    assert 0 < ok < N, "the kills must land mid-sweep, some after batches were committed"
    sent = stub.count("/v1/chat/completions")
    pg = make_pg(user="tester", provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep([f"cell {i}" for i in range(N)], concurrency=4, progress=False)
    assert sw.count("cached") == ok
    assert stub.count("/v1/chat/completions") - sent == N - ok
    assert state(db) == (N, N, 0)
