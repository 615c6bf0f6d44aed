"""The loopback OpenAI stub, exercised through the official openai SDK."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from tests.support.openai_stub import OpenAIStub

KEY = "sk-test-1234567890abcd"
CHAT = "/v1/chat/completions"
ROOT = Path(__file__).resolve().parents[2]
HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(api_key=KEY) as server:
        yield server
        assert server.errors == []


@pytest.fixture
def client(stub: OpenAIStub) -> Iterator[OpenAI]:
    with OpenAI(base_url=stub.base_url, api_key=KEY, max_retries=0) as sdk:
        yield sdk


def test_plain_completion_shape_usage_and_recording(stub: OpenAIStub, client: OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    completion = raw.parse()
    answer = "Echo: hello there alpha beta gamma delta epsilon zeta eta theta iota kappa alpha beta"
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == answer
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].logprobs is None
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 15, 19)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert raw.headers["x-request-id"] == "req_1"
    for name in ("requests", "tokens"):
        assert int(raw.headers[f"x-ratelimit-limit-{name}"]) > 0
        assert int(raw.headers[f"x-ratelimit-remaining-{name}"]) > 0
    [request] = stub.requests
    assert (request.method, request.path, request.status) == ("POST", CHAT, 200)
    assert request.body["messages"] == HELLO
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert stub.count(CHAT) == stub.count() == 1
    stub.reset()
    assert stub.count() == 0


def test_max_tokens_stop_and_reply_with(stub: OpenAIStub, client: OpenAI) -> None:
    create = client.chat.completions.create
    cut = create(model="gpt-4o", messages=HELLO, max_completion_tokens=3)
    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == (
        "Echo: hello there",
        "length",
    )
    assert cut.usage is not None
    assert cut.usage.completion_tokens == 3
    stopped = create(model="gpt-4o", messages=HELLO, max_tokens=50, stop=[" beta", "zeta"])
    assert stopped.choices[0].message.content == "Echo: hello there alpha"
    assert stopped.choices[0].finish_reason == "stop"
    stub.reply_with = lambda body: f"{len(body['messages'])} messages"
    assert create(model="gpt-4o", messages=HELLO).choices[0].message.content == "2 messages"
    stub.reply_with = "fixed"
    assert create(model="gpt-4o", messages=HELLO).choices[0].message.content == "fixed"


def test_stream_with_include_usage(client: OpenAI) -> None:
    plain = client.chat.completions.create(model="o4-mini", messages=HELLO)
    with client.chat.completions.create(
        model="o4-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
    ) as stream:
        chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 3
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage == plain.usage


def test_stream_usage_off_and_rejected_stream_options(stub: OpenAIStub, client: OpenAI) -> None:
    stub.stream_usage = False
    options = {"include_usage": True}
    create = client.chat.completions.create
    with create(model="smollm2", messages=HELLO, stream=True, stream_options=options) as stream:
        chunks = list(stream)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)
    stub.reject_stream_options = True
    with pytest.raises(openai.BadRequestError, match="stream_options"):
        create(model="smollm2", messages=HELLO, stream=True, stream_options=options)


def test_wrong_key_is_authentication_error(stub: OpenAIStub) -> None:
    with (
        OpenAI(base_url=stub.base_url, api_key="sk-wrong-key-9876", max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        bad.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert caught.value.code == "invalid_api_key"
    assert "Incorrect API key provided: *************9876." in caught.value.message
    assert stub.count(CHAT) == 1
    assert stub.requests[0].status == 401


def test_models_and_strict_unknown_model(stub: OpenAIStub, client: OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == ["gpt-4o-mini", "gpt-4.1-nano", "gpt-4o", "o4-mini", "smollm2"]
    assert client.chat.completions.create(model="nope", messages=HELLO).model == "nope"
    stub.strict_models = True
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nope", messages=HELLO)
    assert caught.value.code == "model_not_found"


def test_fail_next_429_exposes_retry_after_ms(stub: OpenAIStub, client: OpenAI) -> None:
    stub.fail_next(429, headers={"retry-after-ms": "50"})
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert caught.value.response.headers["retry-after-ms"] == "50"
    assert caught.value.response.headers["x-request-id"] == "req_1"
    assert caught.value.code == "rate_limit_exceeded"
    assert client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices
    assert stub.count(CHAT) == 2
    assert [r.status for r in stub.requests] == [429, 200]


def test_fail_every_and_sdk_retries(stub: OpenAIStub) -> None:
    stub.fail_every(2, status=503, headers={"retry-after-ms": "1"})
    with OpenAI(base_url=stub.base_url, api_key=KEY, max_retries=1) as sdk:
        for _ in range(3):
            sdk.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert [r.status for r in stub.requests] == [200, 503, 200, 503, 200]
    stub.fail_every(None)
    stub.fail_next(500, times=2, body={"error": {"message": "boom", "type": "server_error"}})
    with OpenAI(base_url=stub.base_url, api_key=KEY, max_retries=0) as sdk:
        for _ in range(2):
            with pytest.raises(openai.InternalServerError, match="boom"):
                sdk.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert sdk.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices


def test_stall_times_out_a_short_client_timeout(stub: OpenAIStub, client: OpenAI) -> None:
    stub.stall_next(30.0)  # ended by stop() at teardown
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).chat.completions.create(model="gpt-4o", messages=HELLO)
    assert stub.requests[0].ended is None  # the client gave up; the server is still stalling
    assert client.chat.completions.create(model="gpt-4o", messages=HELLO).choices


def test_cut_stream_raises_on_iteration(stub: OpenAIStub, client: OpenAI) -> None:
    stub.cut_stream_next(after_chunks=2)
    received = []
    with (
        client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True) as stream,
        pytest.raises(openai.APIConnectionError),  # raised while iterating, not by create()
    ):
        received.extend(stream)
    assert len(received) <= 2
    stub.cut_stream_next()  # non-stream: Content-Length promises more than is sent
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert client.chat.completions.create(model="gpt-4o", messages=HELLO).choices


def test_malformed_body(stub: OpenAIStub, client: OpenAI) -> None:
    stub.malformed_next(times=2)
    not_json = (ValueError, openai.APIResponseValidationError)
    with pytest.raises(not_json):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    with (
        pytest.raises(not_json),
        client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True) as stream,
    ):
        list(stream)
    assert client.chat.completions.create(model="gpt-4o", messages=HELLO).choices


def test_fifty_concurrent_requests_are_not_serialised() -> None:
    # Each answer waits until all fifty are being handled at once: served one after another,
    # the barrier breaks (after 30 s) and the requests fail.
    everyone = threading.Barrier(50, timeout=30)

    def together(body: dict) -> str:
        everyone.wait()
        return "together"

    with (
        OpenAIStub(reply_with=together) as stub,
        OpenAI(base_url=stub.base_url, api_key="x", max_retries=0) as sdk,
        ThreadPoolExecutor(50) as pool,
    ):
        futures = [
            pool.submit(sdk.chat.completions.create, model="gpt-4o-mini", messages=HELLO)
            for _ in range(50)
        ]
        results = [f.result() for f in futures]
    assert [r.choices[0].message.content for r in results] == ["together"] * 50
    assert stub.count(CHAT) == 50
    assert stub.max_in_flight() == 50


def test_start_and_end_times_show_requests_one_after_another(
    stub: OpenAIStub, client: OpenAI
) -> None:
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    first, second, third = stub.requests
    assert first.ended is not None and second.ended is not None and third.ended is not None
    assert first.started <= first.ended <= second.started <= second.ended <= third.started
    assert stub.max_in_flight() == 1


def test_stop_ends_idle_and_sleeping_connections() -> None:
    stub = OpenAIStub(latency=30).start()
    errors: list[Exception] = []

    def call(sdk: OpenAI) -> None:
        try:
            sdk.chat.completions.create(model="gpt-4o", messages=HELLO)
        except openai.APIError as error:
            errors.append(error)

    with OpenAI(base_url=stub.base_url, api_key="x", max_retries=0) as sdk:
        sdk.models.list()  # leaves an idle keep-alive connection open
        waiter = threading.Thread(target=call, args=(sdk,))
        waiter.start()
        while stub.count(CHAT) == 0:
            time.sleep(0.01)
        stub.stop()
        waiter.join(timeout=5)  # its request would sleep 30 s
    assert not waiter.is_alive()
    assert len(errors) == 1  # the sleeping request was dropped, not answered
    assert not [t for t in threading.enumerate() if t.name.startswith("openai-stub")]


def test_runs_as_a_separate_process() -> None:
    command = [sys.executable, "-m", "tests.support.openai_stub", "--port", "0", "--latency", "0"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 10)
            assert ready, "the stub did not print READY within 10 s"
            word, base_url = proc.stdout.readline().split()
            assert word == "READY"
            assert base_url.startswith("http://127.0.0.1:")
            assert base_url.endswith("/v1")
            with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
                assert "gpt-4o-mini" in [m["id"] for m in json.load(response)["data"]]
            with OpenAI(base_url=base_url, api_key="x", max_retries=0) as sdk:
                answer = sdk.chat.completions.create(model="gpt-4o", messages=HELLO)
            assert answer.choices[0].message.content.startswith("Echo: hello there")
        finally:
            proc.terminate()
            proc.wait(timeout=5)
    assert proc.returncode == 0
