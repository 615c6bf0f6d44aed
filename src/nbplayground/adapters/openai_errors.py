"""The openai SDK's failures, and the endpoint's HTTP errors, as nbplayground's typed errors."""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING, Any

import orjson

from nbplayground.accounts import scrub
from nbplayground.errors import (
    ApiNotSupported,
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


def rate_limit(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ratelimit-")}


_STATUS_ERRORS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                  404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
                  429: "RateLimitError"}


def status_error(response: Any) -> openai.APIStatusError:
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


def timed_out(e: BaseException) -> bool:
    """httpx's (or the SDK's httpx2's) TimeoutException, whichever library the SDK uses, unless
    the cause is a refused or reset connection: the SDK's aiohttp transport labels every
    connection error a ConnectTimeout, and "did not answer within 120 s" would mislead."""
    cause = e.__cause__
    if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
        return False
    return isinstance(e, TimeoutError) or any(
        c.__name__ == "TimeoutException" for c in type(e).__mro__)


def _code(body: Any) -> str | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def map_error(e: Exception, *, where: str, api_key: str | None, timeout: float,
              api: str = "chat") -> ProviderError:
    """SDK errors → our typed errors, in plain words, with no trace of the key."""
    import openai

    status = getattr(e, "status_code", None)
    response = getattr(e, "response", None)
    headers = response.headers if response is not None else None
    rid = headers.get("x-request-id") if headers is not None else None
    detail = scrub(getattr(e, "message", None) or str(e), api_key)
    kw: dict[str, Any] = {"status_code": status, "request_id": rid}
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return AuthenticationFailed(
            f"{where} refused the API key ({status}); check OPENAI_API_KEY or pass "
            "api_key=... (nothing was charged)", **kw)
    if isinstance(e, openai.NotFoundError):
        if api == "responses" and _code(e.body) != "model_not_found":
            # llama.cpp and older vLLM have no /v1/responses at all: the route is missing
            return ApiNotSupported(
                f"{where} has no Responses API (404 on /responses); use api=\"chat\" with this "
                "endpoint (nothing was charged)", **kw)
        return ModelNotFound(f"{where} does not serve that model (404): {detail}", **kw)
    if isinstance(e, openai.RateLimitError):
        return RateLimited(f"rate limited by {where} (429): {detail}",
                           retry_after=retry_after_seconds(headers), **kw)
    if isinstance(e, openai.APITimeoutError) and (e.__cause__ is None or timed_out(e.__cause__)):
        return RequestTimedOut(f"{where} did not answer within {timeout:g} s", **kw)
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
    if isinstance(e, openai.APIError) and isinstance(e.body, dict):  # an SSE "error" event
        return response_failed(e.body, where=where, api_key=api_key)
    return MalformedResponse(f"{where}: {detail}", **kw)


def response_failed(error: Any, *, where: str, api_key: str | None,
                    request_id: str | None = None) -> ProviderError:
    """A Response whose status is "failed" (or a stream's "error" event), by its error code:
    rate limits and server errors are worth another attempt, a rejected prompt is not."""
    code = _code(error)
    message = error.get("message") if isinstance(error, dict) else None
    detail = scrub(f"{code or 'failed'}: {message or 'no message'}", api_key)
    kw: dict[str, Any] = {"status_code": 200, "request_id": request_id}
    if code == "rate_limit_exceeded":
        return RateLimited(f"rate limited by {where} (response failed): {detail}", **kw)
    if code is None or code == "server_error":
        return ServerFailed(f"{where} failed to finish the response: {detail}", **kw)
    return BadRequest(f"{where} could not answer the request (response failed): {detail}",
                      **kw)


def stream_cut(e: Exception, partial: str, api_key: str | None) -> ProviderError:
    """A stream that broke after it started: bad JSON in an event, or the connection dropped."""
    if isinstance(e, ValueError):
        return MalformedResponse("the stream carried an event that is not JSON",
                                 partial_text=partial)
    return ConnectionFailed(scrub(f"the stream was cut after {len(partial)} characters: "
                                  f"{type(e).__name__}", api_key), partial_text=partial)
