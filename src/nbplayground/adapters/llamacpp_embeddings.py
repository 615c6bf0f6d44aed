"""LlamaCppEmbedder: embeddings from a GGUF model in the kernel (SmolLM2 by default), mean-pooled
over its tokens by llama.cpp; loaded once, apart from the chat instance (embedding=True)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nbplayground.adapters.llamacpp_models import (
    INSTALL_HINT,
    SMOLLM2,
    LocalModelError,
    _load,
    smollm2_path,
)
from nbplayground.errors import ConfigurationError
from nbplayground.evaluation.ports import Embedded


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

    def embed(self, texts: Sequence[str]) -> Embedded:
        loaded = _load(str(self.path), self.n_ctx, None, embedding=True)  # once a process
        with loaded.lock:  # a Llama runs one batch at a time
            llm = loaded.llm
            try:
                vectors: Any = llm.embed(list(texts), truncate=True)
                tokens = sum(len(llm.tokenize(t.encode("utf-8"))) for t in texts)
            except Exception as e:
                raise LocalModelError(f"llama.cpp could not embed these texts: {e}") from None
        return Embedded([[float(x) for x in v] for v in vectors], prompt_tokens=tokens)
