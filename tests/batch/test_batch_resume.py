"""A batch sweep survives its kernel: kill -9 while waiting, a lost create, a crash while its
results are read; the same call made again finds its batches and every row is logged once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground import StoreError
from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.configuration import Endpoint
from nbplayground.errors import BadRequest
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

SRC = Path(__file__).parents[2] / "src"
PROMPTS = [f"question {i}" for i in range(40)]
CHILD = """
import sys
from nbplayground import Playground
from nbplayground.configuration import Endpoint
db, url, key = sys.argv[1:4]
pg = Playground(db=db, provider=Endpoint(base_url=url, api_key=key))
sw = pg.sweep([f"question {i}" for i in range(40)], max_tokens=6, via="batch", progress=False)
print("submitted", flush=True)
sw.wait(poll=0.01, progress=False)
print("done", flush=True)
"""


def one(db: Path, sql: str) -> tuple[Any, ...]:
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def counts(db: Path) -> tuple[Any, ...]:
    return one(db, "select count(*), count(distinct cache_key), "
                   "count(*) filter (where status = 'ok'), "
                   "(select count(*) from api_requests), (select count(*) from usage), "
                   "(select count(*) from batches) from experiments")


def polls(stub: OpenAIStub) -> int:
    return sum(r.method == "GET" and r.path.startswith("/v1/batches/") for r in stub.requests)


def test_killed_while_waiting_then_the_same_call_resumes_with_no_second_batch(
        stub: OpenAIStub, db: Path, make_pg: Any) -> None:
    with subprocess.Popen([sys.executable, "-c", CHILD, str(db), stub.base_url, TEST_KEY],
                          env={**os.environ, "PYTHONPATH": str(SRC)}, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "submitted\n", proc.communicate()[1][-3000:]
        deadline = time.monotonic() + 60
        while polls(stub) < 3 and time.monotonic() < deadline:  # it is waiting: it has asked
            time.sleep(0.01)
        assert polls(stub) >= 3
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert stub.batch_api.created == 1
    stub.batch_api.finish()  # answered while nobody waited
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep(PROMPTS, max_tokens=6, via="batch", progress=False)
    assert stub.batch_api.created == 1  # found in the log, not made again
    sw.wait(poll=0, progress=False, sleep=lambda s: None)
    assert stub.batch_api.created == 1
    assert stub.count("/v1/files") == 1  # one upload, ever
    assert sw.count("ok") == 40
    assert counts(db) == (40, 40, 40, 40, 40, 1)
    assert one(db, "select status, ingested_at is not null from batches") == ("completed", True)


def test_a_create_that_failed_after_the_upload_resumes_from_the_logged_file(
        stub: OpenAIStub, db: Path, make_pg: Any) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    stub.batch_api.fail_next("/v1/batches", 400)
    with pytest.raises(BadRequest):
        pg.sweep(PROMPTS[:3], max_tokens=6, via="batch", progress=False)
    assert one(db, "select status, input_file_id is not null, batch_id from batches") == (
        "uploaded", True, None)
    # The answer of a create was lost: the batch exists at OpenAI, not in the log.
    file_id = one(db, "select input_file_id from batches")[0]
    from openai import OpenAI

    OpenAI(base_url=stub.base_url, api_key=TEST_KEY).batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    sw = pg.sweep(PROMPTS[:3], max_tokens=6, via="batch", progress=False)
    assert stub.batch_api.created == 1 and stub.count("/v1/files") == 1
    sw.wait(poll=0, progress=False, sleep=lambda s: stub.batch_api.advance())
    assert counts(db) == (3, 3, 3, 3, 3, 1)


def test_results_read_again_after_a_crash_are_logged_once(stub: OpenAIStub, db: Path,
                                                         make_pg: Any) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep(PROMPTS[:5], max_tokens=6, via="batch", progress=False)
    sw.wait(poll=0, progress=False, sleep=lambda s: stub.batch_api.advance())
    assert counts(db) == (5, 5, 5, 5, 5, 1)
    repo = DuckDBExperimentRepository(db)
    [row] = repo.batches()
    repo.save_batch(row.model_copy(update={"ingested_at": None}))  # died before it said so
    again = pg.sweep(PROMPTS[:5], max_tokens=6, via="batch", progress=False)
    again.wait(poll=0, progress=False, sleep=lambda s: None)
    assert counts(db) == (5, 5, 5, 5, 5, 1)
    assert repo.batches()[0].ingested_at is not None
    assert StoreError  # the log's own errors are typed (imported for the reader)


def test_a_row_written_before_its_upload_failed_is_uploaded_by_the_same_call(
        stub: OpenAIStub, db: Path, make_pg: Any) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    stub.batch_api.fail_next("/v1/files", 400)
    with pytest.raises(BadRequest):
        pg.sweep(PROMPTS[:2], max_tokens=6, via="batch", progress=False)
    assert one(db, "select status, input_file_id, total from batches") == ("pending", None, 2)
    sw = pg.sweep(PROMPTS[:2], max_tokens=6, via="batch", progress=False)
    assert one(db, "select count(*), any_value(status) from batches") == (1, "validating")
    sw.wait(poll=0, progress=False, sleep=lambda s: stub.batch_api.advance())
    assert counts(db) == (2, 2, 2, 2, 2, 1)
