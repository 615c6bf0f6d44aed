"""Batch sweeps end to end against the loopback server's Files and Batches API, logged in a
real DuckDB file: every line ingested, failed lines as error rows retried alone, expired and
cancelled batches, faults on the files/batches endpoints."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground import InvalidInput
from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import CHAT_PATH, OpenAIStub

PROMPTS = ["one", "two", "three"]


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    return make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def driven(stub: OpenAIStub) -> Any:
    """A wait() clock that moves the server's batches on instead of sleeping."""
    return lambda seconds: stub.batch_api.advance()


def test_a_batch_sweep_ingests_every_line_as_ordinary_rows(pg: Any, db: Path,
                                                          stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPTS, temperature=[0.0, 1.0], max_tokens=8, via="batch", progress=False)
    assert stub.count(CHAT_PATH) == 0 and stub.batch_api.created == 1
    [batch] = stub.batch_api.batches.values()
    sent = stub.batch_api.lines(batch.input_file_id)
    assert [line["custom_id"] for line in sent] == [c.cache_key for c in sw.cells]
    assert [line["body"] for line in sent] == [c.request.body() for c in sw.cells]
    assert {line["url"] for line in sent} == {"/v1/chat/completions"}
    status = sw.status()
    assert list(status["status"]) == ["validating"] and list(status["total"]) == [6]
    logged = rows(db, "select batch_id, input_file_id, status, total from batches")
    assert logged == [(batch.id, batch.input_file_id, "validating", 6)]
    sw.wait(poll=0, sleep=driven(stub))
    assert list(sw.status()["status"]) == ["completed"]
    frame = sw.to_pandas()
    assert list(frame["status"]) == ["ok"] * 6 and list(frame["via"]) == ["batch"] * 6
    assert all(r.startswith("Echo: ") for r in frame["response"])
    got = rows(db, "select via, count(*), count(distinct cache_key), sum(cost_estimate) > 0 "
                   "from experiments group by via")
    assert got == [("batch", 6, 6, True)]
    assert rows(db, "select count(*), min(status_code) from api_requests") == [(6, 200)]
    assert rows(db, "select count(*) from usage") == [(6,)]
    assert rows(db, "select ingested_at is not null, completed from batches") == [(True, 6)]
    # The same call again: everything comes from the log, nothing is submitted.
    again = pg.sweep(PROMPTS, temperature=[0.0, 1.0], max_tokens=8, via="batch",
                     progress=False)
    assert stub.batch_api.created == 1 and again.count("cached") == 6


def test_failed_lines_are_error_rows_and_only_they_are_retried(pg: Any, db: Path,
                                                              stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPTS, max_tokens=8, via="batch", progress=False)
    stub.batch_api.fail_line(sw.cells[1].cache_key)
    sw.wait(poll=0, sleep=driven(stub))
    assert list(sw.to_pandas()["status"]) == ["ok", "error", "ok"]
    assert "Invalid value for 'temperature'" in sw.results[1].error
    assert rows(db, "select status, count(*) from experiments group by status order by 1") \
        == [("error", 1), ("ok", 2)]
    # Re-running the call does not send the failed line again: retry_failed does.
    pg.sweep(PROMPTS, max_tokens=8, via="batch", progress=False)
    assert stub.batch_api.created == 1
    stub.batch_api.failing_lines.clear()
    retried = pg.retry_failed(sw, via="batch", progress=False)
    assert stub.batch_api.created == 2
    second = list(stub.batch_api.batches.values())[-1]
    assert [x["custom_id"] for x in stub.batch_api.lines(second.input_file_id)] == \
        [sw.cells[1].cache_key]
    retried.wait(poll=0, sleep=driven(stub))
    assert list(retried.to_pandas()["status"]) == ["ok", "ok", "ok"]
    # ... or synchronously, for a failed line of another sweep.
    other = pg.sweep(["four"], max_tokens=8, via="batch", progress=False)
    stub.batch_api.fail_line(other.cells[0].cache_key)
    other.wait(poll=0, sleep=driven(stub))
    assert other.results[0].status == "error"
    fixed = pg.retry_failed(other, progress=False)
    assert fixed.results[0].ok and fixed.results[0].via == "sync"
    assert stub.count(CHAT_PATH) == 1


def test_an_expired_batch_keeps_what_finished_and_the_rest_can_be_resubmitted(
        pg: Any, db: Path, stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPTS, max_tokens=8, via="batch", progress=False)
    [batch] = stub.batch_api.batches.values()
    stub.batch_api.advance()
    stub.batch_api.expire(batch.id, answered=1)
    sw.wait(poll=0, sleep=driven(stub))
    assert list(sw.to_pandas()["status"]) == ["ok", "error", "error"]
    assert "expired" in sw.results[2].error
    retried = pg.retry_failed(sw, via="batch", progress=False)
    retried.wait(poll=0, sleep=driven(stub))
    assert list(retried.to_pandas()["status"]) == ["ok"] * 3
    assert rows(db, "select count(*) from experiments where status = 'ok'") == [(3,)]


def test_a_cancelled_batch_keeps_what_finished(pg: Any, db: Path, stub: OpenAIStub) -> None:
    sw = pg.sweep(PROMPTS, max_tokens=8, via="batch", progress=False)
    sw.cancel()
    assert list(sw.status()["status"]) == ["cancelling"]
    sw.wait(poll=0, sleep=driven(stub))
    assert list(sw.status()["status"]) == ["cancelled"]
    assert list(sw.to_pandas()["status"]) == ["error"] * 3
    assert rows(db, "select count(*) from batches where ingested_at is not null") == [(1,)]


def test_faults_on_the_files_and_batches_endpoints_are_retried(pg: Any, stub: OpenAIStub
                                                               ) -> None:
    stub.batch_api.fail_next("/v1/files", 429, {"retry-after-ms": "1"})
    stub.batch_api.fail_next("/v1/batches", 500, {"retry-after-ms": "1"})
    sw = pg.sweep(PROMPTS, max_tokens=8, via="batch")  # with its progress bar
    assert stub.batch_api.created == 1
    stub.batch_api.fail_next("/v1/batches/", 500, times=2)  # polls: asked again next time
    stub.batch_api.fail_next("/v1/files/", 429, {"retry-after-ms": "1"})
    sw.wait(poll=0, sleep=driven(stub))
    assert list(sw.to_pandas()["status"]) == ["ok"] * 3
    assert "3 ok" in repr(sw)


def test_what_a_batch_cannot_do_is_refused_before_anything_is_sent(make_pg: Any,
                                                                   stub: OpenAIStub) -> None:
    with pytest.raises(InvalidInput, match="via must be"):
        make_pg(provider="simulated").sweep(PROMPTS, via="carrier pigeon")
    with pytest.raises(InvalidInput, match="Batch API"):
        make_pg(provider="simulated").sweep(PROMPTS, via="batch")
    with pytest.raises(InvalidInput, match="asweep sends the calls now"):
        asyncio.run(make_pg(provider="simulated").asweep(PROMPTS, via="batch"))
    assert stub.requests == []


def test_a_cell_in_another_sweeps_live_batch_is_not_sent_again(pg: Any, db: Path,
                                                              stub: OpenAIStub) -> None:
    first = pg.sweep(["a", "b"], max_tokens=8, via="batch", progress=False)
    second = pg.sweep(["b", "c"], max_tokens=8, via="batch", progress=False)
    [_, made] = stub.batch_api.batches.values()
    assert [x["custom_id"] for x in stub.batch_api.lines(made.input_file_id)] == [
        second.cells[1].cache_key]  # "b" is in the first sweep's live batch
    assert len(second.batches) == 2  # it waits for that batch too
    first.wait(poll=0, sleep=driven(stub))
    second.wait(poll=0, sleep=driven(stub))
    frame = second.to_pandas()
    assert list(frame["status"]) == ["ok", "ok"] and list(frame["cached"]) == [True, False]
    assert rows(db, "select count(*), count(distinct cache_key) from experiments") == [(3, 3)]


def test_wait_gives_up_after_its_timeout_and_carries_on_later(pg: Any, stub: OpenAIStub
                                                              ) -> None:
    sw = pg.sweep(PROMPTS, max_tokens=8, via="batch", progress=False)
    slept: list[float] = []
    sw.wait(poll=5, timeout=10, sleep=slept.append)
    assert slept == [5, 5] and list(sw.status()["status"]) == ["validating"]
    assert sw.count("all") == 0 and "batch" in repr(sw)
    stub.batch_api.finish()
    sw.wait(poll=5, sleep=slept.append)
    assert sw.count("ok") == 3 and slept == [5, 5]


def test_a_responses_api_batch_sweep_reads_responses(pg: Any, db: Path, stub: OpenAIStub
                                                     ) -> None:
    sw = pg.sweep(["one", "two"], api="responses", max_tokens=16, via="batch", progress=False)
    [batch] = stub.batch_api.batches.values()
    assert batch.endpoint == "/v1/responses"
    assert {x["url"] for x in stub.batch_api.lines(batch.input_file_id)} == {"/v1/responses"}
    sw.wait(poll=0, sleep=driven(stub))
    frame = sw.to_pandas()
    assert list(frame["status"]) == ["ok", "ok"]
    assert all(r.startswith("Echo: ") for r in frame["response"])
    assert rows(db, "select count(*) from experiments where via = 'batch' and api = 'responses' "
                    "and completion_tokens > 0") == [(2,)]
