"""Hostile servers: every fault becomes a typed, logged error row; nothing else is lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub


def logged(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("select status, error_type, error from experiments "
                            "order by created_at").fetchall()


@pytest.mark.parametrize(("fault", "error_type"), [
    (lambda s: s.fail_next(403, times=1), "AuthenticationFailed"),
    (lambda s: s.fail_next(404, times=1), "ModelNotFound"),
    (lambda s: s.fail_next(400, times=1), "BadRequest"),
    (lambda s: s.malformed_next(times=10), "MalformedResponse"),
])
def test_faults_are_typed_logged_rows(make_pg: Any, stub: OpenAIStub, db: Path, fault: Any,
                                      error_type: str) -> None:
    fault(stub)
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    exp = pg.run("hostile")
    assert exp.status == "error" and exp.error_type == error_type
    assert logged(db) == [("error", error_type, exp.error)]
    assert TEST_KEY not in (exp.error or "")


def test_a_stalled_server_times_out_is_retried_and_then_answers(
        make_pg: Any, stub: OpenAIStub, db: Path) -> None:
    stub.stall_next(30.0, times=2)  # far past the timeout: only the client ends these
    # The timeout has room for a healthy answer on a busy machine; the stalls never answer.
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY, timeout=1.0))
    exp = pg.run("slow")
    assert exp.ok
    with duckdb.connect(str(db), read_only=True) as conn:
        attempts = conn.execute("select attempt, status_code, error is not null from "
                                "api_requests order by attempt").fetchall()
    assert attempts == [(0, None, True), (1, None, True), (2, 200, False)]


def test_a_stream_cut_mid_answer_keeps_what_arrived(make_pg: Any, stub: OpenAIStub,
                                                    db: Path) -> None:
    stub.cut_stream_next(after_chunks=4, times=5)
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    pieces: list[str] = []
    exp = pg.run("cut me off please, this answer is long", on_token=pieces.append)
    assert exp.status == "error" and exp.error_type == "ConnectionFailed"
    assert exp.response and exp.response.startswith("".join(pieces)[:5])
    assert logged(db)[0][0] == "error"


def test_a_sweep_against_a_mixed_bag_of_faults_loses_nothing(make_pg: Any, stub: OpenAIStub,
                                                            db: Path) -> None:
    stub.fail_next(404, times=3)
    stub.fail_every(7, status=500)
    # No stalls here: a short timeout would only turn a busy machine's slow answer into a fault.
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY, timeout=30))
    sw = pg.sweep([f"bag {i}" for i in range(40)], concurrency=6, progress=False)
    df = sw.to_pandas()
    assert len(df) == 40 and set(df["status"]) <= {"ok", "error"}
    assert (df["status"] == "error").sum() == 3  # 404s are final; 500s are retried
    rows = logged(db)
    assert len(rows) == 40
    assert {r[1] for r in rows if r[0] == "error"} == {"ModelNotFound"}
