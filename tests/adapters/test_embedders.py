"""The embedders: OpenAIEmbedder on the loopback server (faults included), the simulated one,
and llama.cpp's embeddings of the real SmolLM2 file."""

from __future__ import annotations

import pytest

from nbplayground.adapters.llamacpp_chat import local_available
from nbplayground.adapters.openai_embeddings import OpenAIEmbedder
from nbplayground.adapters.simulated_embeddings import SimulatedEmbedder, trigram_vector
from nbplayground.errors import AuthenticationFailed, RateLimited, ServerFailed
from nbplayground.evaluation.embeddings import cosine_of
from tests.conftest import TEST_KEY
from tests.support import stub_embeddings
from tests.support.openai_stub import OpenAIStub

PATH = stub_embeddings.PATH


def embedder(stub: OpenAIStub, **kw: object) -> OpenAIEmbedder:
    return OpenAIEmbedder(api_key=TEST_KEY, base_url=stub.base_url, **kw)  # type: ignore[arg-type]


def test_openai_embeddings_come_back_in_order_with_usage(stub: OpenAIStub) -> None:
    got = embedder(stub).embed(["the capital is Paris", "Paris", "bananas"])
    assert stub.count(PATH) == 1
    (req,) = [r for r in stub.requests if r.path == PATH]
    assert req.body["model"] == "text-embedding-3-small"
    assert req.body["input"] == ["the capital is Paris", "Paris", "bananas"]
    assert got.prompt_tokens == 6 and got.request_id == req.request_id
    expected = [stub_embeddings.vector(t) for t in req.body["input"]]
    for v, e in zip(got.vectors, expected, strict=True):  # float32 on the wire (base64)
        assert v == pytest.approx(e, abs=1e-6)
    assert cosine_of(got.vectors[0], got.vectors[1]) > cosine_of(got.vectors[0], got.vectors[2])


def test_a_429_with_retry_after_and_a_500_are_retried_by_the_sdk(stub: OpenAIStub) -> None:
    stub.fail_next(429, headers={"retry-after": "0"})
    stub.fail_next(500)
    got = embedder(stub).embed(["Paris"])
    assert len(got.vectors) == 1
    assert [r.status for r in stub.requests if r.path == PATH] == [429, 500, 200]


def test_faults_that_persist_are_typed_errors_without_the_key(stub: OpenAIStub) -> None:
    stub.fail_next(429, headers={"retry-after": "0"}, times=3)
    with pytest.raises(RateLimited) as info:
        embedder(stub).embed(["Paris"])
    assert TEST_KEY not in str(info.value) and "embeddings" in str(info.value)
    stub.fail_next(500, times=2)
    with pytest.raises(ServerFailed):
        embedder(stub, max_retries=1).embed(["Paris"])
    with pytest.raises(AuthenticationFailed) as bad:
        OpenAIEmbedder(api_key="sk-wrong-key-1234", base_url=stub.base_url).embed(["x"])
    assert "sk-wrong" not in str(bad.value)


def test_the_simulated_embedder_is_deterministic_and_labelled() -> None:
    sim = SimulatedEmbedder()
    a, b = sim.embed(["Paris is big", "Paris is big"]).vectors
    assert a == b == trigram_vector("paris  is big") and len(a) == 256
    assert "simulated" in sim.model and sim.provider == "simulated"
    close = cosine_of(trigram_vector("Paris"), trigram_vector("paris."))
    far = cosine_of(trigram_vector("Paris"), trigram_vector("Tokyo"))
    assert close > 0.6 > far


@pytest.mark.local_model
@pytest.mark.skipif(not local_available(), reason="needs the local extra")
def test_the_local_model_embeds_similar_sentences_closer() -> None:
    from nbplayground.adapters.llamacpp_embeddings import LlamaCppEmbedder

    local = LlamaCppEmbedder()
    got = local.embed(["Paris is the capital of France.", "The capital of France is Paris.",
                       "Bananas are yellow."])
    a, b, c = got.vectors
    assert len(a) == 576 and got.prompt_tokens > 10  # SmolLM2-135M's hidden size
    assert cosine_of(a, b) > cosine_of(a, c)
    assert local.embed(["Bananas are yellow."]).vectors[0] == pytest.approx(c, abs=1e-5)
