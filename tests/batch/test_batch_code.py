"""The generated batch script runs against the loopback server: it uploads the very lines the
sweep sends and creates the batch with the SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub


def test_the_batch_script_uploads_the_sweeps_lines_and_creates_the_batch(
        make_pg: Any, stub: OpenAIStub, tmp_path: Path) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep(["Name a colour «bleu»", 'Say "hi"'], temperature=[0.0, 0.5], max_tokens=7,
                  via="batch", progress=False)
    [sent] = stub.batch_api.batches.values()
    code = sw.code()
    assert TEST_KEY not in code and "OPENAI_API_KEY" in code
    script = tmp_path / "batch.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "OPENAI_API_KEY": TEST_KEY})
    assert done.returncode == 0, done.stderr
    assert stub.batch_api.created == 2
    made = list(stub.batch_api.batches.values())[-1]
    assert done.stdout.split()[:3] == [made.id, "validating", "4"]
    assert made.endpoint == "/v1/chat/completions"
    assert stub.batch_api.lines(made.input_file_id) == stub.batch_api.lines(sent.input_file_id)
