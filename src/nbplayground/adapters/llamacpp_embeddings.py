"""LlamaCppEmbedder: embeddings from a GGUF model in the kernel (SmolLM2 by default), mean-pooled
over its tokens by llama.cpp; loaded once, apart from the chat instance (embedding=True)."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.adapters.llamacpp_models import (
    INSTALL_HINT,
    SMOLLM2,
    LocalModelError,
    default_threads,
    smollm2_path,
)
from nbplayground.errors import ConfigurationError
from nbplayground.evaluation.ports import Embedded

if TYPE_CHECKING:
    from llama_cpp import Llama

_LOADED: dict[str, Llama] = {}
_LOCK = threading.Lock()
"""One embedding instance per file and process, and one embedding call into it at a time."""


@atexit.register
def _close_all() -> None:
    with _LOCK:
        for llm in _LOADED.values():
            with contextlib.suppress(Exception):
                llm.close()
        _LOADED.clear()


class LlamaCppEmbedder:
    """Provider "local": the model's mean-pooled hidden states, a vector per text."""

    provider = "local"
    batch_size = 64

    def __init__(self, path: str | None = None, model: str = SMOLLM2, n_ctx: int = 2048) -> None:
        self.path = path or smollm2_path()
        if self.path is None:
            raise ConfigurationError(f"the local model is not installed; {INSTALL_HINT}")
        self.model, self.n_ctx = model, n_ctx

    def __repr__(self) -> str:
        return f"LlamaCppEmbedder(model={self.model!r})"

    def _llm(self) -> Llama:
        key = os.path.realpath(str(self.path))
        llm = _LOADED.get(key)
        if llm is None:
            try:
                import llama_cpp
            except ImportError:
                raise ConfigurationError(f"llama-cpp-python is missing; {INSTALL_HINT}") from None
            try:
                threads = default_threads()
                llm = llama_cpp.Llama(model_path=key, embedding=True, n_ctx=self.n_ctx,
                                      n_batch=self.n_ctx, n_threads=threads,
                                      n_threads_batch=threads, verbose=False,
                                      pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
            except Exception as e:
                raise LocalModelError(f"llama.cpp could not load {key} for embeddings: {e}"
                                      ) from None
            logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
            _LOADED[key] = llm
        return llm

    def embed(self, texts: Sequence[str]) -> Embedded:
        with _LOCK:  # loaded once; a Llama runs one batch at a time
            llm = self._llm()
            try:
                vectors: Any = llm.embed(list(texts), truncate=True)
                tokens = sum(len(llm.tokenize(t.encode("utf-8"))) for t in texts)
            except Exception as e:
                raise LocalModelError(f"llama.cpp could not embed these texts: {e}") from None
        return Embedded([[float(x) for x in v] for v in vectors], prompt_tokens=tokens)
