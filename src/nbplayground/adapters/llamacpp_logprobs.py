"""Token logprobs from llama.cpp in the kernel without logits_all: each sampled token with the
log-softmax of the raw logits it was drawn from, read at the moment it is sampled.

llama-cpp-python 0.3 returns logprobs only from a model loaded with logits_all=True, which
keeps a float per vocabulary entry for every position (SmolLM2: 49,152 x n_ctx floats, 1.6 GB
of address space at n_ctx 8192) and sorts the whole vocabulary in Python for every token (five
times slower answers here). The logits of the position being sampled are in llama.cpp's output
buffer anyway, so reading them there costs no memory and well under a millisecond per token.
The values are llama.cpp's own (tests/adapters/test_llamacpp_logprobs.py checks them against a
logits_all model).
"""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_cpp import Llama


@dataclass(frozen=True)
class Step:
    """One sampled token: its id, its logprob and the top alternatives as (id, logprob)."""

    token: int
    logprob: float
    top: tuple[tuple[int, float], ...]


@contextlib.contextmanager
def recording(llm: Llama, top: int) -> Iterator[list[Step]]:
    """Record every token `llm` samples while the block runs (the caller holds its lock).

    Llama.generate calls self.sample(idx=...) once per token: an instance attribute of that
    name sees the logits first, then lets the real sampler choose (nothing about the choice
    changes: same seed, same answer)."""
    import numpy as np  # with llama_cpp, never at import: `import nbplayground` stays light

    steps: list[Step] = []
    real: Any = llm.sample
    n_vocab = llm.n_vocab()

    def sample(*args: Any, idx: int | None = None, **kwargs: Any) -> int:
        row = -1 if idx is None else idx - llm.n_tokens
        logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(row), shape=(n_vocab,))
        shifted = logits.astype(np.float64) - float(logits.max())
        logprobs = shifted - np.log(np.exp(shifted).sum())
        token = int(real(*args, idx=idx, **kwargs))
        best = np.argpartition(-logprobs, top)[:top] if 0 < top < n_vocab else np.array([], int)
        best = best[np.argsort(-logprobs[best], kind="stable")]
        steps.append(Step(token, float(logprobs[token]),
                          tuple((int(t), float(logprobs[t])) for t in best)))
        return token

    setattr(llm, "sample", sample)  # noqa: B010 - an instance attribute, removed below
    try:
        yield steps
    finally:
        delattr(llm, "sample")


def token_logprobs(llm: Llama, steps: list[Step], text: str) -> tuple[dict[str, Any], ...]:
    """The answer's tokens in the shape the OpenAI readers give: {"token", "logprob",
    "top_logprobs": [{"token", "logprob"}]}.

    Tokens that wrote nothing (the end-of-turn token) are left out, and so is what was sampled
    after the answer ended (a stop sequence cuts the text; the token reaching into the stop is
    the last one kept). A character split over two tokens belongs to the second, so the tokens
    join to the answer."""
    wanted = len(text.encode("utf-8"))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    out: list[dict[str, Any]] = []
    written = 0
    for step in steps:
        if written >= wanted:
            break
        piece = _bytes(llm, step.token)
        if not piece:
            continue
        written += len(piece)
        out.append({"token": decoder.decode(piece), "logprob": step.logprob, "top_logprobs": [
            {"token": _bytes(llm, t).decode("utf-8", errors="replace"), "logprob": lp}
            for t, lp in step.top]})
    return tuple(out)


def _bytes(llm: Llama, token: int) -> bytes:
    return bytes(llm.detokenize([token], special=False))
