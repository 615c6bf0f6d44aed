"""The SDK client's HTTP side: its transport, the clients a fork strands, and the plain-answer
POST that skips the SDK's per-call pipeline."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import orjson

from nbplayground.adapters.openai_aiohttp import AiohttpLane
from nbplayground.adapters.openai_errors import status_error, timed_out


def http_client(timeout: float) -> Any:
    """The SDK's aiohttp transport when aiohttp is installed (the SDK's own advice for many
    requests in flight: a third less CPU per request here), else its default httpx client."""
    import openai

    try:
        return openai.DefaultAioHttpClient(timeout=timeout)
    except (RuntimeError, ImportError, AttributeError):  # no aiohttp, or an older SDK
        return openai.DefaultAsyncHttpxClient(timeout=timeout)


STRANDED: list[Any] = []
"""SDK clients whose event loop is gone (a forked child's copies of its parent's)."""


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_LANES: weakref.WeakKeyDictionary[Any, AiohttpLane | None] = weakref.WeakKeyDictionary()


def lane_of(http: Any) -> AiohttpLane | None:
    """The aiohttp lane of an SDK http client (openai_aiohttp.py), found once per client."""
    try:
        return _LANES[http]
    except KeyError:
        lane = _LANES[http] = AiohttpLane.of(http)
        return lane


async def post(http: Any, url: str, headers: dict[str, str] | None, body: dict[str, Any], *,
               timeout: float | None = None) -> Any:  # noqa: ASYNC109 (the HTTP timeout)
    """POST `body` through the SDK client's own HTTP client, raising the SDK's exceptions as
    its client would (see OpenAIChatClient._post for why); `timeout` overrides the client's
    (a flex request may take 15 minutes)."""
    lane = lane_of(http)
    if lane is not None:
        return await lane.post(url, headers or {}, body, timeout=timeout)
    extra = {} if timeout is None else {"timeout": timeout}
    request = http.build_request("POST", url, content=orjson.dumps(body), headers=headers,
                                 **extra)
    try:
        response = await http.send(request)
    except Exception as e:
        import openai

        if timed_out(e):
            raise openai.APITimeoutError(request=request) from None
        raise openai.APIConnectionError(message=f"Connection error: {e}",
                                        request=request) from None
    if response.status_code >= 400:
        raise status_error(response)
    return response
