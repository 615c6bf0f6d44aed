"""LlamaCppChatClient: a real GGUF model in the kernel via llama-cpp-python (SmolLM2 by default)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.adapters.llamacpp_logprobs import Step, recording, token_logprobs
from nbplayground.adapters.llamacpp_models import (  # noqa: F401 - re-exported
    _MODELS,
    _MODELS_LOCK,
    INSTALL_HINT,
    NEUTRAL_SAMPLERS,
    SEED_SPAN,
    SMOLLM2,
    SMOLLM2_FILE,
    LocalModelError,
    _chat_messages,
    _load,
    _Loaded,
    _prompt_tokens,
    _seed,
    default_threads,
    local_available,
    smollm2_path,
)
from nbplayground.domain import ChatRequest, ChatResult, Message, ModelParameters
from nbplayground.domain.fields import FIELDS
from nbplayground.errors import (
    ConfigurationError,
    ContextWindowExceeded,
    InvalidParameter,
    UnknownModel,
)
from nbplayground.experimentation.ports import DeltaCallback

__all__ = ["SMOLLM2", "LlamaCppChatClient", "LocalModelError", "local_available", "smollm2_path"]

if TYPE_CHECKING:
    from llama_cpp import Llama

Logprobs = tuple[dict[str, Any], ...] | None

class LlamaCppChatClient:
    """Provider "local": real answers from GGUF models, usage by each model's own tokenizer.

    A model loads on first use and stays loaded; calls into it are serialized on a worker thread.
    on_delta runs on the event loop thread (call_soon_threadsafe), in order, before complete ends.
    """

    provider = "local"
    base_url: str | None = None
    serves_responses = False
    """llama.cpp in the kernel speaks Chat Completions only."""
    sees_images = False
    hears_audio = False
    reads_files = False
    """SmolLM2 (and a plain GGUF) reads text only."""

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
            text, finish, prompt_n, completion_n, logprobs = await asyncio.to_thread(
                self._generate, request, emit, cancel)
        except asyncio.CancelledError:
            cancel.set()  # a stream stops at its next piece; a plain call runs to its end
            raise
        if failed:
            raise failed[0]
        return ChatResult(
            text=text, finish_reason=finish, prompt_tokens=prompt_n, completion_tokens=completion_n,
            logprobs=logprobs, usage_estimated=False, response_model=request.model,
            status_code=None,
            latency_ms=(time.perf_counter() - t0) * 1000)

    def _generate(self, request: ChatRequest, emit: DeltaCallback | None,
                  cancel: threading.Event) -> tuple[str, str | None, int, int, Logprobs]:
        """(text, finish_reason, prompt_tokens, completion_tokens, logprobs), on a worker
        thread; logprobs (None unless asked for) are read as tokens are sampled."""
        text, finish, prompt_n, completion_n, steps, llm = self._sample(request, emit, cancel)
        logprobs = None if steps is None else token_logprobs(llm, steps, text)
        return text, finish, prompt_n, completion_n, logprobs

    def _sample(self, request: ChatRequest, emit: DeltaCallback | None,
                cancel: threading.Event
                ) -> tuple[str, str | None, int, int, list[Step] | None, Llama]:
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
        if p.response_format is not None:  # llama.cpp's grammar keeps even SmolLM2 to the schema
            schema = p.response_format.get("schema")
            kwargs["response_format"] = {"type": "json_object", **(
                {"schema": schema} if isinstance(schema, dict) else {})}
        parts: list[str] = []
        with loaded.lock, (recording(llm, p.top_logprobs or 0) if p.logprobs
                           else contextlib.nullcontext(None)) as steps:
            # Evaluate the whole prompt every time (no KV reuse): same seed, same answer.
            llm.reset()  # type: ignore[no-untyped-call]
            try:
                if emit is None:
                    out: Any = llm.create_chat_completion(**kwargs)
                    choice, usage = out["choices"][0], out["usage"]
                    return (choice["message"].get("content") or "", choice["finish_reason"],
                            usage["prompt_tokens"], usage["completion_tokens"], steps, llm)
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
                return text, finish, prompt_n, completion_n, steps, llm
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
