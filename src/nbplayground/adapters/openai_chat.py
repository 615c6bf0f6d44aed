"""OpenAIChatClient: chat completions through the official openai SDK, any compatible endpoint."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import TYPE_CHECKING, Any

import orjson

from nbplayground.accounts import scrub
from nbplayground.analytics import Tokenizer
from nbplayground.configuration import answered_model
from nbplayground.domain import ChatRequest, ChatResult
from nbplayground.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    MalformedResponse,
    ModelNotFound,
    ProviderError,
    RateLimited,
    RequestTimedOut,
    ServerFailed,
)
from nbplayground.experimentation.ports import DeltaCallback

if TYPE_CHECKING:
    import httpx
    import openai

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def retry_after_seconds(headers: httpx.Headers | dict[str, str] | None) -> float | None:
    """retry-after-ms (OpenAI's) wins over retry-after (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _rate_limit(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ratelimit-")}


def _http_client(timeout: float) -> Any:
    """The SDK's aiohttp transport when aiohttp is installed (the SDK's own advice for many
    requests in flight: a third less CPU per request here), else its default httpx client."""
    import openai

    try:
        return openai.DefaultAioHttpClient(timeout=timeout)
    except (RuntimeError, ImportError, AttributeError):  # no aiohttp, or an older SDK
        return openai.DefaultAsyncHttpxClient(timeout=timeout)


_STATUS_ERRORS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                  404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
                  429: "RateLimitError"}


def _status_error(response: Any) -> openai.APIStatusError:
    """The SDK's exception for a 4xx/5xx answer, with the message its client would give."""
    import openai

    status = response.status_code
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:  # a proxy's HTML page, say: enough of it to recognise
        body = response.content.decode("utf-8", "replace").strip()
        body = body if len(body) <= 300 else body[:299] + "…"
    name = _STATUS_ERRORS.get(status, "InternalServerError" if status >= 500 else "APIStatusError")
    error: type[openai.APIStatusError] = getattr(openai, name)
    return error(f"Error code: {status} - {body}", response=response,
                 body=body.get("error", body) if isinstance(body, dict) else body)


def _timed_out(e: BaseException) -> bool:
    """httpx's (or the SDK's httpx2's) TimeoutException, whichever library the SDK uses, unless
    the cause is a refused or reset connection: the SDK's aiohttp transport labels every
    connection error a ConnectTimeout, and "did not answer within 120 s" would mislead."""
    cause = e.__cause__
    if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
        return False
    return isinstance(e, TimeoutError) or any(
        c.__name__ == "TimeoutException" for c in type(e).__mro__)


_STRANDED: list[Any] = []
"""SDK clients whose event loop is gone (a forked child's copies of its parent's)."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _answer(body: bytes) -> tuple[str, str | None, str | None, tuple[int, int, int] | None]:
    """(text, finish_reason, model, (prompt, completion, cached) tokens or None) from a chat
    completion's JSON; MalformedResponse for anything else."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # a 200 whose body is not JSON
        raise MalformedResponse("the endpoint answered with a body that is not JSON") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise MalformedResponse("the endpoint answered without choices")
    choice = choices[0]
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    finish = choice.get("finish_reason")
    model = data.get("model")
    if not isinstance(text, str | None) or not isinstance(finish, str | None) \
            or not isinstance(model, str | None):
        raise MalformedResponse("the endpoint answered with a choice that is not a chat message")
    usage = data.get("usage")
    counts = None
    if isinstance(usage, dict):
        details = usage.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else 0
        numbers = (usage.get("prompt_tokens"), usage.get("completion_tokens"), cached or 0)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise MalformedResponse("the endpoint answered with token counts that are not "
                                    "whole numbers")
        counts = numbers
    return text or "", finish, model, counts  # type: ignore[return-value]


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
        self._listing: tuple[asyncio.AbstractEventLoop | None,
                             asyncio.Future[list[str] | None]] | None = None

    def __repr__(self) -> str:  # never the key
        return f"OpenAIChatClient(base_url={self.base_url or DEFAULT_BASE_URL!r})"

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The SDK client of the running event loop: its connections belong to the loop it was
        made on, and a forked child (or a loop started afresh) cannot use the old one."""
        loop = _running_loop()
        if self._client is None or self._loop is not loop:
            import openai

            if self._client is not None:  # kept, not dropped: its session cannot be closed
                _STRANDED.append(self._client)  # without its loop, and would warn if freed
            self._loop, self._headers = loop, None
            self._http = _http_client(self._timeout)
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
            self._served = sorted(m.id for m in sync.models.list())
            return list(self._served)
        except openai.OpenAIError as e:
            raise self._map(e) from None
        finally:
            sync.close()

    async def complete(self, request: ChatRequest, *, on_delta: DeltaCallback | None = None
                       ) -> ChatResult:
        import openai

        body = request.body()
        served = await self._served_models()  # before the request: the log's order stays
        t0 = time.perf_counter()
        try:
            if request.stream:
                return await self._stream(body, request, on_delta, t0, served)
            response = await self._post(body)
            answer = _answer(response.content)
        except openai.OpenAIError as e:
            raise self._map(e) from None
        except ProviderError:
            raise
        except Exception as e:  # httpx transport errors that the SDK let through
            raise ConnectionFailed(scrub(f"connection to {self.base_url} failed: {e}",
                                         self._api_key)) from None
        text, finish, model, usage = answer
        model = answered_model(model, request.model, served)
        return ChatResult(
            text=text, finish_reason=finish,
            prompt_tokens=usage[0] if usage else self._count_prompt(request),
            completion_tokens=usage[1] if usage else self._count(text, request),
            cached_tokens=usage[2] if usage else 0, usage_estimated=usage is None,
            response_model=model, status_code=response.status_code,
            request_id=response.headers.get("x-request-id"),
            latency_ms=(time.perf_counter() - t0) * 1000, rate_limit=_rate_limit(response.headers))

    async def _stream(self, body: dict[str, Any], request: ChatRequest,
                      on_delta: DeltaCallback | None, t0: float, served: list[str]
                      ) -> ChatResult:
        import openai

        kwargs: dict[str, Any] = {"stream": True}
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
        parts: list[str] = []
        finish: str | None = None
        usage: Any = None
        model: str | None = None
        try:
            stream = raw.parse()
            async for chunk in stream:
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    delta = choice.delta.content if choice.delta else None
                    if delta:
                        parts.append(delta)
                        if on_delta is not None:
                            on_delta(delta)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except openai.OpenAIError as e:
            err = self._map(e)
            err.partial_text = "".join(parts)
            raise err from None
        except ValueError:
            raise MalformedResponse("the stream carried a chunk that is not JSON",
                                    partial_text="".join(parts)) from None
        except Exception as e:
            raise ConnectionFailed(
                scrub(f"the stream was cut after {len(parts)} pieces: {type(e).__name__}",
                      self._api_key), partial_text="".join(parts)) from None
        text = "".join(parts)
        if finish is None:
            raise ConnectionFailed("the stream ended without a finish reason (cut)",
                                   partial_text=text)
        model = answered_model(model, request.model, served)
        cached = 0
        if usage is not None:
            details = getattr(usage, "prompt_tokens_details", None)
            cached = (getattr(details, "cached_tokens", 0) or 0) if details else 0
        return ChatResult(
            text=text, finish_reason=finish,
            prompt_tokens=usage.prompt_tokens if usage else self._count_prompt(request),
            completion_tokens=usage.completion_tokens if usage else self._count(text, request),
            cached_tokens=cached, usage_estimated=usage is None, response_model=model,
            status_code=raw.http_response.status_code, request_id=raw.headers.get("x-request-id"),
            latency_ms=(time.perf_counter() - t0) * 1000, rate_limit=_rate_limit(raw.headers))

    async def _served_models(self) -> list[str]:
        """What a compatible server lists, asked once for a whole sweep, to tell which model
        answered; nothing is asked of OpenAI itself, whose answers name their model."""
        if self._served is not None or _openai_itself(self.base_url):
            return self._served or []
        loop = _running_loop()
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
            return sorted(m.id for m in page.data)
        except openai.APIStatusError:  # it answered, without a list (a 404 at /models)
            return []
        except Exception:  # down, or not there yet: the chat request will say so
            return None

    async def _post(self, body: dict[str, Any]) -> Any:
        """POST the body as built, through the SDK client's own HTTP client, with the headers
        the SDK sends (its `default_headers` and `auth_headers`), raising the SDK's exceptions
        as its client would. Its per-call pipeline (typed parameters re-walked, request options
        copied, headers re-merged, the URL parsed three times, response models built) cost
        ~0.65 ms of CPU per call, half of a sweep's, for nothing a plain answer needs: its
        retries are off (the service owns the retry loop) and `_answer` reads the JSON.
        Streams still go through `chat.completions.create`."""
        client = self.client
        if self._headers is None:  # built once, on the loop (X-Stainless-Async names it)
            merged = {**client.default_headers, **client.auth_headers}
            self._headers = {k: v for k, v in merged.items() if isinstance(v, str)}  # no Omit()
            self._url = str(client.base_url).rstrip("/") + "/chat/completions"
        http = self._http
        request = http.build_request("POST", self._url, content=orjson.dumps(body),
                                     headers=self._headers)
        try:
            response = await http.send(request)
        except Exception as e:
            import openai

            if _timed_out(e):
                raise openai.APITimeoutError(request=request) from None
            raise openai.APIConnectionError(message=f"Connection error: {e}",
                                            request=request) from None
        if response.status_code >= 400:
            raise _status_error(response)
        return response

    def _count_prompt(self, request: ChatRequest) -> int:
        return self._tokenizer.count_messages(request.messages, request.model)

    def _count(self, text: str, request: ChatRequest) -> int:
        return self._tokenizer.count_text(text, request.model)

    def _map(self, e: Exception) -> ProviderError:
        """SDK errors → our typed errors, in plain words, with no trace of the key."""
        import openai

        status = getattr(e, "status_code", None)
        response = getattr(e, "response", None)
        headers = response.headers if response is not None else None
        rid = headers.get("x-request-id") if headers is not None else None
        detail = scrub(getattr(e, "message", None) or str(e), self._api_key)
        where = self.base_url or DEFAULT_BASE_URL
        kw: dict[str, Any] = {"status_code": status, "request_id": rid}
        if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
            return AuthenticationFailed(
                f"{where} refused the API key ({status}); check OPENAI_API_KEY or pass "
                "api_key=... (nothing was charged)", **kw)
        if isinstance(e, openai.NotFoundError):
            return ModelNotFound(f"{where} does not serve that model (404): {detail}", **kw)
        if isinstance(e, openai.RateLimitError):
            return RateLimited(f"rate limited by {where} (429): {detail}",
                               retry_after=retry_after_seconds(headers), **kw)
        if isinstance(e, openai.APITimeoutError) and (e.__cause__ is None
                                                      or _timed_out(e.__cause__)):
            return RequestTimedOut(f"{where} did not answer within {self._timeout:g} s", **kw)
        if isinstance(e, openai.APIConnectionError):
            return ConnectionFailed(f"could not reach {where}: {detail}", **kw)
        if isinstance(e, openai.APIResponseValidationError):
            return MalformedResponse(f"{where} sent an answer that is not a chat completion", **kw)
        if isinstance(e, openai.BadRequestError | openai.UnprocessableEntityError):
            return BadRequest(f"{where} rejected the request ({status}): {detail}", **kw)
        if isinstance(e, openai.APIStatusError) and (status or 0) >= 500:
            return ServerFailed(f"{where} failed ({status}): {detail}",
                                retry_after=retry_after_seconds(headers), **kw)
        if isinstance(e, openai.APIStatusError):
            return BadRequest(f"{where} answered {status}: {detail}", **kw)
        return MalformedResponse(f"{where}: {detail}", **kw)

    async def aclose(self) -> None:
        if self._client is not None and self._loop is _running_loop():
            await self._client.close()  # one made on another loop cannot be closed from here
        self._client = None
