"""OpenAIChatClient: Chat Completions and the Responses API through the official openai SDK."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from nbplayground.accounts import scrub
from nbplayground.adapters import openai_responses
from nbplayground.adapters.openai_dialects import (
    lists_like_llama_cpp_python,
    refuses_json_schema,
    with_json_object_schema,
)
from nbplayground.adapters.openai_errors import (
    DEFAULT_BASE_URL,
    map_error,
    rate_limit,
    retry_after_seconds,
    stream_cut,
)
from nbplayground.adapters.openai_reading import ChatChunks, Reading, loads, read_chat
from nbplayground.adapters.openai_transport import STRANDED, http_client, post, running_loop
from nbplayground.analytics import Tokenizer
from nbplayground.configuration import answered_model
from nbplayground.domain import ChatRequest, ChatResult
from nbplayground.errors import ApiNotSupported, ConnectionFailed, ProviderError, ServerFailed
from nbplayground.experimentation.ports import DeltaCallback

if TYPE_CHECKING:
    import openai

__all__ = ["DEFAULT_BASE_URL", "FLEX_TIMEOUT", "OpenAIChatClient", "retry_after_seconds"]
FLEX_TIMEOUT = 900.0
"""Seconds a service_tier="flex" request may take (OpenAI suggests 15 minutes)."""


def _openai_itself(base_url: str | None) -> bool:
    return base_url is None or "://api.openai.com" in base_url


class OpenAIChatClient:
    """One attempt per call (the SDK's own retries are off: the service owns the retry loop)."""

    def __init__(self, *, api_key: str | None, base_url: str | None = None,
                 tokenizer: Tokenizer, timeout: float = 120.0, provider: str = "openai") -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/") if base_url else None
        self._api_key = api_key
        self._tokenizer = tokenizer
        self._timeout = timeout
        self._client: openai.AsyncOpenAI | None = None
        self._http: Any = None  # the SDK client's own HTTP client (we hand it over)
        self._loop: asyncio.AbstractEventLoop | None = None  # where the SDK client was made
        self._headers: dict[str, str] | None = None
        self._stream_options = True
        self._url: str | None = None
        self._served: list[str] | None = None  # a compatible server's models, listed once
        self._json_object_schema = False  # the endpoint's dialect (openai_dialects.py)
        self._no_responses = False  # it lists like a server without /v1/responses
        self._listing: tuple[asyncio.AbstractEventLoop | None,
                             asyncio.Future[list[str] | None]] | None = None

    def __repr__(self) -> str:  # never the key
        return f"OpenAIChatClient(base_url={self.base_url or DEFAULT_BASE_URL!r})"

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The SDK client of the running event loop: its connections belong to the loop it was
        made on, and a forked child (or a loop started afresh) cannot use the old one."""
        loop = running_loop()
        if self._client is None or self._loop is not loop:
            import openai

            if self._client is not None:  # kept, not dropped: its session cannot be closed
                STRANDED.append(self._client)  # without its loop, and would warn if freed
            self._loop, self._headers = loop, None
            self._http = http_client(self._timeout)
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key or "no-key", base_url=self.base_url or DEFAULT_BASE_URL,
                max_retries=0, timeout=self._timeout, http_client=self._http)
        return self._client

    def models(self) -> list[str]:
        import openai

        sync = openai.OpenAI(api_key=self._api_key or "no-key",
                             base_url=self.base_url or DEFAULT_BASE_URL, max_retries=0,
                             timeout=min(self._timeout, 10.0))
        try:
            listed = list(sync.models.list())
            self._learn(listed)
            self._served = sorted(m.id for m in listed)
            return list(self._served)
        except openai.OpenAIError as e:
            raise self._map(e) from None
        finally:
            sync.close()

    async def complete(self, request: ChatRequest, *, on_delta: DeltaCallback | None = None
                       ) -> ChatResult:
        """One attempt on the request's API: Chat Completions, or the Responses API."""
        import openai

        served = await self._served_models()  # before the request: the log's order stays
        body, api = self.body_for(request), request.api
        if api == "responses" and self._no_responses:
            raise ApiNotSupported(f"{self._where} is llama-cpp-python's server, which has no "
                                  "Responses API; use api=\"chat\" with it (nothing was sent)")
        t0 = time.perf_counter()
        try:
            if request.stream and api == "responses":
                timed = self.client.with_options(timeout=self._timeout_for(body))
                reading, raw = await openai_responses.stream(
                    timed, body, on_delta, where=self._where, api_key=self._api_key,
                    fail=lambda e: self._map(e, api),
                    cut=lambda e, text: stream_cut(e, text, self._api_key))
                return self._result(reading, request, raw.http_response.status_code,
                                    raw.headers, t0, served)
            if request.stream:
                reading, raw = await self._stream(body, on_delta)
                return self._result(reading, request, raw.http_response.status_code,
                                    raw.headers, t0, served)
            response = await self._post(body, request.path)
            reading = self._read(response, api)
        except openai.OpenAIError as e:
            raise self._dialect(e) or self._map(e, api) from None
        except ProviderError:
            raise
        except Exception as e:  # httpx transport errors that the SDK let through
            raise ConnectionFailed(scrub(f"connection to {self.base_url} failed: {e}",
                                         self._api_key)) from None
        return self._result(reading, request, response.status_code, response.headers, t0,
                            served)

    def body_for(self, request: ChatRequest) -> dict[str, Any]:
        """The body sent for `request`: in this endpoint's JSON-schema dialect, once known."""
        body = request.body()
        return with_json_object_schema(body) if self._json_object_schema else body

    def _learn(self, models: Any) -> None:
        """What a model list tells of the server: llama-cpp-python's has its own dialect."""
        if lists_like_llama_cpp_python(models):
            self._json_object_schema = self._no_responses = True

    def _dialect(self, e: Exception) -> ProviderError | None:
        """The json_schema form refused: the other form from now on, and again at once."""
        status, body = getattr(e, "status_code", None), getattr(e, "body", None)
        said = str(body.get("message")) if isinstance(body, dict) else str(e)
        if self._json_object_schema or not refuses_json_schema(status, said):
            return None
        self._json_object_schema = True
        return ServerFailed(f"{self._where} takes a JSON schema only as response_format "
                            "{'type': 'json_object', 'schema': ...}; sent so from now on",
                            status_code=status, retry_after=0.0)

    def _read(self, response: Any, api: str) -> Reading:
        """A plain answer's JSON; what fails to read carries the answer's request id."""
        rid = response.headers.get("x-request-id")
        try:
            if api == "responses":
                return openai_responses.read_response(
                    loads(response.content), where=self._where, api_key=self._api_key,
                    request_id=rid)
            return read_chat(response.content)
        except ProviderError as e:
            e.request_id = e.request_id or rid
            e.status_code = e.status_code or response.status_code
            raise

    def _result(self, reading: Reading, request: ChatRequest, status: int, headers: Any,
                t0: float, served: list[str]) -> ChatResult:
        """The ChatResult of a reading; tiktoken counts (marked) where the server sent none."""
        usage, text = reading.usage, reading.text
        return ChatResult(
            text=text, finish_reason=reading.finish_reason,
            prompt_tokens=usage[0] if usage else self._count_prompt(request),
            completion_tokens=usage[1] if usage else self._count(text, request),
            cached_tokens=usage[2] if usage else 0,
            reasoning_tokens=usage[3] if usage else 0, refusal=reading.refusal,
            tool_calls=tuple(reading.tool_calls), logprobs=None if reading.logprobs is None
            else tuple(reading.logprobs), usage_estimated=usage is None,
            response_model=answered_model(reading.model, request.model, served),
            status_code=status,
            request_id=headers.get("x-request-id"),
            latency_ms=(time.perf_counter() - t0) * 1000, rate_limit=rate_limit(headers))

    async def _stream(self, body: dict[str, Any], on_delta: DeltaCallback | None
                      ) -> tuple[Reading, Any]:
        import openai

        kwargs: dict[str, Any] = {"stream": True, "timeout": self._timeout_for(body)}
        if self._stream_options:
            kwargs["stream_options"] = {"include_usage": True}
        try:
            raw = await self.client.chat.completions.with_raw_response.create(**body, **kwargs)
        except openai.BadRequestError as e:
            if self._stream_options and "stream_options" in str(e):
                # Some compatible servers reject it; count tokens ourselves from now on.
                self._stream_options = False
                kwargs.pop("stream_options")
                raw = await self.client.chat.completions.with_raw_response.create(**body, **kwargs)
            else:
                raise
        chunks = ChatChunks()
        try:
            async for chunk in raw.parse():
                added = chunks.add(chunk)
                if added and on_delta is not None:
                    on_delta(added)
            reading = chunks.reading()
        except Exception as e:
            if isinstance(e, ProviderError):
                err = e
            elif isinstance(e, openai.OpenAIError):
                err = self._map(e)
            else:
                err = stream_cut(e, chunks.text, self._api_key)
            err.partial_text = err.partial_text or chunks.text
            err.request_id = err.request_id or raw.headers.get("x-request-id")
            raise err from None
        if reading.finish_reason is None:
            raise ConnectionFailed("the stream ended without a finish reason (cut)",
                                   partial_text=reading.text)
        return reading, raw

    async def _served_models(self) -> list[str]:
        """What a compatible server lists, asked once for a whole sweep, to tell which model
        answered; nothing is asked of OpenAI itself, whose answers name their model."""
        if self._served is not None or _openai_itself(self.base_url):
            return self._served or []
        loop = running_loop()
        if self._listing is None or self._listing[0] is not loop:
            self._listing = (loop, asyncio.ensure_future(self._list_served()))
        served = await asyncio.shield(self._listing[1])
        if served is None:  # unreachable now: ask again next time
            self._listing = None
            return []
        self._served = served
        return served

    async def _list_served(self) -> list[str] | None:
        import openai

        try:
            page = await self.client.with_options(timeout=min(self._timeout, 10.0)).models.list()
            self._learn(page.data)
            return sorted(m.id for m in page.data)
        except openai.APIStatusError:  # it answered, without a list (a 404 at /models)
            return []
        except Exception:  # down, or not there yet: the chat request will say so
            return None

    async def _post(self, body: dict[str, Any], path: str = "/chat/completions") -> Any:
        """POST the body as built, through the SDK client's own HTTP client, with the headers
        the SDK sends (its `default_headers` and `auth_headers`), raising the SDK's exceptions
        as its client would. Its per-call pipeline (typed parameters re-walked, request options
        copied, headers re-merged, the URL parsed three times, response models built) cost
        ~0.65 ms of CPU per call, half of a sweep's, for nothing a plain answer needs: its
        retries are off (the service owns the retry loop) and the readers read the JSON.
        Streams still go through the SDK's `create`."""
        client = self.client
        if self._headers is None:  # built once, on the loop (X-Stainless-Async names it)
            merged = {**client.default_headers, **client.auth_headers}
            self._headers = {k: v for k, v in merged.items() if isinstance(v, str)}  # no Omit()
            self._url = str(client.base_url).rstrip("/")
        return await post(self._http, f"{self._url}{path}", self._headers, body,
                          timeout=self._timeout_for(body))

    def _timeout_for(self, body: dict[str, Any]) -> float:
        flex = body.get("service_tier") == "flex"
        return max(self._timeout, FLEX_TIMEOUT) if flex else self._timeout

    def _count_prompt(self, request: ChatRequest) -> int:
        return self._tokenizer.count_messages(request.messages, request.model)

    def _count(self, text: str, request: ChatRequest) -> int:
        return self._tokenizer.count_text(text, request.model)

    @property
    def _where(self) -> str:
        return self.base_url or DEFAULT_BASE_URL

    def _map(self, e: Exception, api: str = "chat") -> ProviderError:
        """SDK errors → our typed errors, in plain words, with no trace of the key."""
        return map_error(e, where=self._where, api_key=self._api_key, timeout=self._timeout,
                         api=api)

    async def aclose(self) -> None:
        if self._client is not None and self._loop is running_loop():
            await self._client.close()  # one made on another loop cannot be closed from here
        self._client = None
