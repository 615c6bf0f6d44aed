"""The plain-answer POST straight on the aiohttp session inside the SDK's aiohttp client.

`openai.DefaultAioHttpClient` is an httpx2 client whose transport sends through one
`aiohttp.ClientSession`. For a plain (non-streamed) answer, httpx2's layer around it (a Request
built and its URL parsed, headers merged case-insensitively, an httpx2 Response wrapped around
the aiohttp one and read through two async iterators) was a quarter of the event loop's work
per call at 50 in flight. This lane sends the same bytes with the same headers and timeouts on
the same session and connection pool, and keeps the SDK's exceptions: an error status becomes
the httpx2 Response the SDK's `APIStatusError` holds, a timeout `APITimeoutError`, anything
else `APIConnectionError`. Clients it cannot see into (proxies, mounts, the httpx transport)
keep the httpx2 path.
"""

from __future__ import annotations

from typing import Any

import orjson


class PlainResponse:
    """What the readers use of an answer: status, headers (case-insensitive) and bytes."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Any, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content


class AiohttpLane:
    """The session, merged headers and timeouts of one SDK http client, found once."""

    def __init__(self, http: Any, transport: Any) -> None:
        self._http = http
        self._transport = transport
        self._given: dict[str, str] | None = None  # the request headers last merged
        self._headers: dict[str, str] = {}
        self._timeouts: dict[float | None, Any] = {}

    @classmethod
    def of(cls, http: Any) -> AiohttpLane | None:
        """The lane of `http`, or None when it is not the SDK's plain aiohttp client."""
        transport = getattr(http, "_transport", None)
        if type(transport).__name__ != "AiohttpTransport" or getattr(http, "_mounts", True) \
                or getattr(transport, "proxy", True) is not None \
                or getattr(transport, "uds", True) is not None \
                or not callable(getattr(transport, "get_client", None)):
            return None
        return cls(http, transport)

    def _session(self) -> Any:
        import aiohttp

        t = self._transport
        if not isinstance(t.client, aiohttp.ClientSession):
            t.client = t.get_client()  # as the transport does on its first request
        return t.client

    def _merged(self, headers: dict[str, str]) -> dict[str, str]:
        """The client's own headers under the request's, as httpx2 merges them (merged again
        only when handed another dict: the chat client hands the same one every time)."""
        if headers is not self._given:
            base = {k.lower(): v for k, v in self._http.headers.items()}
            base.update({k.lower(): v for k, v in headers.items()})
            base.pop("content-length", None)
            self._given, self._headers = headers, base
        return self._headers

    def _timeout(self, seconds: float | None) -> Any:
        found = self._timeouts.get(seconds)
        if found is None:
            from aiohttp import ClientTimeout

            if seconds is None:
                t = self._http.timeout
                found = ClientTimeout(sock_connect=t.connect, sock_read=t.read, connect=t.pool)
            else:
                found = ClientTimeout(sock_connect=seconds, sock_read=seconds, connect=seconds)
            self._timeouts[seconds] = found
        return found

    async def post(self, url: str, headers: dict[str, str], body: dict[str, Any], *,
                   timeout: float | None) -> PlainResponse:  # noqa: ASYNC109 (the HTTP timeout)
        import aiohttp

        data = orjson.dumps(body)
        try:
            async with self._session().post(
                    url, data=data, headers=self._merged(headers),
                    timeout=self._timeout(timeout), compress=False) as r:
                content = await r.read()
                status, raw = r.status, r.raw_headers
                answer = PlainResponse(status, r.headers, content)
        except (TimeoutError, aiohttp.ServerTimeoutError) as e:
            import openai

            raise openai.APITimeoutError(request=self._request(url, data)) from e
        except aiohttp.ClientError as e:
            import openai

            raise openai.APIConnectionError(message=f"Connection error: {e}",
                                            request=self._request(url, data)) from None
        if status >= 400:
            from nbplayground.adapters.openai_errors import status_error

            raise status_error(self._response(url, data, status, raw, content))
        return answer

    def _request(self, url: str, data: bytes) -> Any:
        return self._http.build_request("POST", url, content=data)

    def _response(self, url: str, data: bytes, status: int, raw: Any, content: bytes) -> Any:
        """The httpx2 Response the SDK's APIStatusError holds (request id, retry-after)."""
        import httpx2

        return httpx2.Response(status, headers=list(raw), content=content,
                               request=self._request(url, data))
