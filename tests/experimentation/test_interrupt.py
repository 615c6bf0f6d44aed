"""Ctrl-C (a kernel interrupt) during a sweep: in-flight requests stop, done cells are kept."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub


def test_interrupt_cancels_cleanly_and_keeps_finished_cells(
        make_pg: Any, stub: OpenAIStub, db: Path) -> None:
    stub.latency = 0.05
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    prompts = [f"interrupt {i}" for i in range(400)]

    def interrupt_later() -> None:
        while stub.count("/v1/chat/completions") < 40:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)  # what a kernel interrupt sends

    threading.Thread(target=interrupt_later, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        pg.sweep(prompts, concurrency=4, progress=False)
    sent = stub.count("/v1/chat/completions")
    time.sleep(0.3)
    assert stub.count("/v1/chat/completions") == sent, "requests went on after the interrupt"
    with duckdb.connect(str(db), read_only=True) as conn:
        ok = conn.execute("select count(*) from experiments where status = 'ok'").fetchone()
        status = conn.execute("select status, done from sweeps").fetchall()
    assert ok is not None and 40 - 4 <= ok[0] <= sent
    assert status == [("interrupted", ok[0])]
    again = pg.sweep(prompts, concurrency=8, progress=False)
    assert again.count("cached") == ok[0] and again.count("failed") == 0
