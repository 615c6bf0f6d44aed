"""OpenAIEmbedder: the embeddings endpoint through the official openai SDK (OpenAI itself, or
an OpenAI-compatible server's /v1/embeddings), for the cosine similarity scorer."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.accounts import scrub
from nbplayground.adapters.openai_errors import DEFAULT_BASE_URL, map_error
from nbplayground.errors import ConnectionFailed, MalformedResponse
from nbplayground.evaluation.ports import Embedded

if TYPE_CHECKING:
    import openai

DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
BATCH_SIZE = 256
"""Texts per request: OpenAI takes up to 2048, but also caps a request's tokens (300,000)."""


class OpenAIEmbedder:
    """One `embeddings.create` per batch of texts. The SDK's own retries are on here (2, with
    its backoff and retry-after): an embedding is a scorer's input, not a logged cell with
    an attempt row of its own; what still fails becomes that cell's error score."""

    batch_size = BATCH_SIZE

    def __init__(self, *, api_key: str | None, base_url: str | None = None,
                 model: str = DEFAULT_EMBEDDING_MODEL, timeout: float = 60.0,
                 max_retries: int = 2, provider: str = "openai") -> None:
        self.provider, self.model = provider, model
        self.base_url = base_url.rstrip("/") if base_url else None
        self._api_key, self._timeout, self._retries = api_key, timeout, max_retries
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the key
        where = self.base_url or DEFAULT_BASE_URL
        return f"OpenAIEmbedder(model={self.model!r}, base_url={where!r})"

    @property
    def client(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    api_key=self._api_key or "no-key", base_url=self.base_url or DEFAULT_BASE_URL,
                    max_retries=self._retries, timeout=self._timeout)
            return self._client

    def embed(self, texts: Sequence[str]) -> Embedded:
        import openai

        where = self.base_url or DEFAULT_BASE_URL
        t0 = time.perf_counter()
        try:
            response = self.client.embeddings.create(model=self.model, input=list(texts))
        except openai.OpenAIError as e:
            raise map_error(e, where=f"{where} (embeddings)", api_key=self._api_key,
                            timeout=self._timeout) from None
        except Exception as e:  # a transport error the SDK let through
            raise ConnectionFailed(scrub(f"embeddings at {where} failed: {e}", self._api_key)
                                   ) from None
        return self._read(response, len(texts), (time.perf_counter() - t0) * 1000, where)

    @staticmethod
    def _read(response: Any, n: int, ms: float, where: str) -> Embedded:
        data = sorted(getattr(response, "data", None) or [], key=lambda d: d.index)
        if len(data) != n or not all(isinstance(d.embedding, list) for d in data):
            raise MalformedResponse(f"{where} answered {len(data)} embeddings for {n} texts")
        usage = getattr(response, "usage", None)
        tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        return Embedded([[float(x) for x in d.embedding] for d in data], prompt_tokens=tokens,
                        latency_ms=ms, request_id=getattr(response, "_request_id", None),
                        extra={"model": getattr(response, "model", None)})

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
