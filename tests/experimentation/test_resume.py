"""A sweep killed with SIGKILL keeps every acknowledged cell; re-running sends only the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

pytestmark = pytest.mark.slow

N = 120

SCRIPT = textwrap.dedent("""
    import sys
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint
    pg = Playground(db=sys.argv[1], user="tester",
                    provider=Endpoint(base_url=sys.argv[2], api_key=sys.argv[3]))
    pg.sweep([f"cell {i}" for i in range(int(sys.argv[4]))], concurrency=4, progress=False)
""")


def ok_rows(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute("select count(*), count(distinct cache_key) from experiments "
                           "where status = 'ok'").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_kill_9_then_resume_makes_exactly_the_missing_calls(
        stub: OpenAIStub, db: Path, make_pg: Any) -> None:
    stub.latency = 0.05
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db), stub.base_url, TEST_KEY,
                             str(N)], env={**os.environ, "PYTHONPATH": "src"})
    deadline = time.monotonic() + 60
    while stub.count("/v1/chat/completions") < N // 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    sent_before = stub.count("/v1/chat/completions")
    assert sent_before < N, "the sweep finished before it could be killed"
    kept, distinct = ok_rows(db)
    assert kept == distinct  # no duplicates
    assert kept <= sent_before

    pg = make_pg(user="tester", provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep([f"cell {i}" for i in range(N)], concurrency=4, progress=False)
    assert sw.count("cached") == kept
    assert stub.count("/v1/chat/completions") - sent_before == N - kept
    assert ok_rows(db) == (N, N)
