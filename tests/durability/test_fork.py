"""A child forked from a kernel that used the Playground (multiprocessing's default on Linux)
runs its own experiments: nothing of the parent's threads, loop or locks is waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from nbplayground.facade_providers import local_available
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")

CHILD_RUNS = textwrap.dedent("""
    import os, sys
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint
    provider = (Endpoint(base_url=sys.argv[2], api_key=sys.argv[3]) if len(sys.argv) > 3
                else sys.argv[2])
    pg = Playground(db=sys.argv[1], user="forky", provider=provider)
    assert pg.run("parent", max_tokens=8).status == "ok"  # loop thread and SDK client exist
    pid = os.fork()
    if pid == 0:
        ok = pg.run("child", max_tokens=8).status == "ok"
        sw = pg.sweep([f"child {i}" for i in range(12)], concurrency=4, max_tokens=8,
                      progress=False)
        os._exit(0 if ok and sw.count("ok") == 12 else 3)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
""")

CHILD_OF_A_BUSY_PARENT = textwrap.dedent("""
    import gc, os, sys, threading
    from nbplayground import Playground
    from nbplayground.accounts.gate import _in_flight
    from nbplayground.configuration import Endpoint
    from nbplayground.experimentation.collector import automatic_collection_paused
    pg = Playground(db=sys.argv[1], user="forky",
                    provider=Endpoint(base_url=sys.argv[2], api_key=sys.argv[3]))
    pg.set_limits(daily_usd=1.0)
    spent = pg.run("parent", max_tokens=8).metrics.cost_estimate
    held, release = threading.Event(), threading.Event()
    gate = pg.service.gate

    def sweeping():  # what a running sweep's threads hold: all but $0.000001 of today's budget,
        try:  # the log while a batch is written, the budget's lock; the collector is paused
            hold = gate.reserve("forky", 1.0 - spent - 1e-6)
            flight = _in_flight(gate.scope, "forky")
            with hold, pg.repository._lock, flight.lock, automatic_collection_paused():
                held.set()
                release.wait()
        finally:
            held.set()

    threading.Thread(target=sweeping).start()
    held.wait()
    pid = os.fork()
    if pid == 0:
        ok = gc.isenabled() and pg.run("child", max_tokens=8).status == "ok"
        os._exit(0 if ok else 3)
    release.set()
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
""")


def rows(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return [p for (p,) in conn.execute("select prompt from experiments order by 1")
                .fetchall()]


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": "src"},
                          cwd=Path(__file__).parents[2])


@pytest.mark.parametrize("provider", ["simulated", pytest.param("local", marks=[
    pytest.mark.local_model,
    pytest.mark.skipif(not local_available(), reason="needs the local extra")])])
def test_a_forked_child_runs_and_sweeps_on_its_own_loop(tmp_path: Path, provider: str) -> None:
    db = tmp_path / "fork.duckdb"
    done = run(CHILD_RUNS, str(db), provider)
    assert done.returncode == 0, done.stderr[-2000:]  # it hung on the parent's dead loop
    assert rows(db) == sorted(["parent", "child", *(f"child {i}" for i in range(12))])


def test_a_forked_child_talks_to_an_openai_endpoint_through_its_own_client(
        tmp_path: Path, stub: OpenAIStub) -> None:
    db = tmp_path / "fork.duckdb"
    done = run(CHILD_RUNS, str(db), stub.base_url, TEST_KEY)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Unclosed" not in done.stderr  # the parent's session is left alone, not freed
    assert len(rows(db)) == 14
    assert stub.count("/v1/chat/completions") == 14


def test_a_child_forked_mid_sweep_waits_for_nothing_of_its_parents(
        tmp_path: Path, stub: OpenAIStub) -> None:
    """Neither the log's lock, nor the budget's, nor the parent's hold on today's budget, and
    the garbage collector the sweep paused runs again."""
    db = tmp_path / "fork.duckdb"
    done = run(CHILD_OF_A_BUSY_PARENT, str(db), stub.base_url, TEST_KEY)
    assert done.returncode == 0, done.stderr[-2000:]
    assert rows(db) == ["child", "parent"]
