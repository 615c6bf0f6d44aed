"""OpenAIBatchClient: the Files (purpose "batch") and Batches APIs through the official SDK.

Output and error files are streamed line by line (files.with_streaming_response.content), and
each line is read by the same readers as a synchronous answer (openai_reading, responses).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from nbplayground.accounts import scrub
from nbplayground.adapters import openai_responses
from nbplayground.adapters.openai_errors import DEFAULT_BASE_URL, map_error
from nbplayground.adapters.openai_reading import Reading, read_chat
from nbplayground.domain import ChatResult
from nbplayground.domain.batch import COMPLETION_WINDOW
from nbplayground.errors import (
    BadRequest,
    MalformedResponse,
    ProviderError,
    RateLimited,
    RequestTimedOut,
    ServerFailed,
)
from nbplayground.experimentation.batch_ports import BatchInfo, BatchLine

if TYPE_CHECKING:
    import openai
    from openai.types import Batch

__all__ = ["OpenAIBatchClient", "info_of"]


def info_of(batch: Batch) -> BatchInfo:
    counts = batch.request_counts
    return BatchInfo(id=batch.id, status=batch.status, input_file_id=batch.input_file_id,
                     output_file_id=batch.output_file_id, error_file_id=batch.error_file_id,
                     total=counts.total if counts else 0,
                     completed=counts.completed if counts else 0,
                     failed=counts.failed if counts else 0,
                     metadata=dict(batch.metadata or {}))


class OpenAIBatchClient:
    """The BatchApi port; one attempt per call (the SDK's own retries are off)."""

    def __init__(self, *, api_key: str | None, base_url: str | None = None,
                 timeout: float = 600.0) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self._api_key = api_key
        self._timeout = timeout
        self._client: openai.OpenAI | None = None

    def __repr__(self) -> str:  # never the key
        return f"OpenAIBatchClient(base_url={self._where!r})"

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(api_key=self._api_key or "no-key",
                                         base_url=self._where, max_retries=0,
                                         timeout=self._timeout)
            weakref.finalize(self, self._client.close)  # a Playground dropped unclosed
        return self._client

    @property
    def _where(self) -> str:
        return self.base_url or DEFAULT_BASE_URL

    def _call(self, work: Any) -> Any:
        import openai

        try:
            return work()
        except openai.OpenAIError as e:
            raise map_error(e, where=self._where, api_key=self._api_key,
                            timeout=self._timeout) from None

    def upload(self, path: Path) -> str:
        with path.open("rb") as handle:  # the SDK streams an open file: memory stays bounded
            made = self._call(lambda: self.client.files.create(
                file=(path.name, handle, "application/jsonl"), purpose="batch"))
        return str(made.id)

    def create(self, input_file_id: str, endpoint: str, metadata: Mapping[str, str]
               ) -> BatchInfo:
        return info_of(self._call(lambda: self.client.batches.create(
            input_file_id=input_file_id, endpoint=endpoint,  # type: ignore[arg-type]
            completion_window=COMPLETION_WINDOW, metadata=dict(metadata))))

    def retrieve(self, batch_id: str) -> BatchInfo:
        return info_of(self._call(lambda: self.client.batches.retrieve(batch_id)))

    def cancel(self, batch_id: str) -> BatchInfo:
        return info_of(self._call(lambda: self.client.batches.cancel(batch_id)))

    def find(self, input_file_id: str) -> BatchInfo | None:
        def work() -> BatchInfo | None:
            for batch in self.client.batches.list(limit=100):  # pages on by itself
                if batch.input_file_id == input_file_id:
                    return info_of(batch)
            return None

        return self._call(work)  # type: ignore[no-any-return]

    def lines(self, file_id: str, endpoint: str) -> Iterator[BatchLine]:
        import openai

        try:
            with self.client.files.with_streaming_response.content(file_id) as response:
                for text in response.iter_lines():
                    if text.strip():
                        yield self._line(text, endpoint)
        except openai.OpenAIError as e:
            raise map_error(e, where=self._where, api_key=self._api_key,
                            timeout=self._timeout) from None

    def _line(self, text: str, endpoint: str) -> BatchLine:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise MalformedResponse(f"{self._where} sent a batch result line that is not "
                                    "JSON") from None
        custom_id = str(data.get("custom_id") or "")
        response = data.get("response") or {}
        status = response.get("status_code")
        rid = response.get("request_id")
        body = response.get("body")
        error = data.get("error")
        if error or not isinstance(status, int) or status >= 400:
            detail = error or (body.get("error") if isinstance(body, dict) else None) or {}
            return BatchLine(custom_id, error=self._error(status, detail, rid),
                             status_code=status, request_id=rid)
        try:
            if endpoint.endswith("/responses"):
                reading = openai_responses.read_response(body, where=self._where,
                                                         api_key=self._api_key, request_id=rid)
            else:
                reading = read_chat(orjson.dumps(body))
        except ProviderError as e:
            e.request_id = e.request_id or rid
            return BatchLine(custom_id, error=e, status_code=status, request_id=rid)
        return BatchLine(custom_id, result=_result(reading, status, rid), status_code=status,
                         request_id=rid)

    def _error(self, status: int | None, detail: Mapping[str, Any], rid: str | None
               ) -> ProviderError:
        code = detail.get("code") if isinstance(detail, Mapping) else None
        message = detail.get("message") if isinstance(detail, Mapping) else None
        text = scrub(f"{code or 'error'}: {message or 'no message'}", self._api_key)
        kw: dict[str, Any] = {"status_code": status, "request_id": rid}
        if code == "batch_expired":
            return RequestTimedOut(f"the batch expired before this request ran ({text}); "
                                   "pg.retry_failed(sw) sends it again", **kw)
        if code == "batch_cancelled":
            return RequestTimedOut(f"the batch was cancelled before this request ran ({text})",
                                   **kw)
        if status == 429:
            return RateLimited(f"rate limited in the batch (429): {text}", **kw)
        if status is not None and status >= 500:
            return ServerFailed(f"the batch's request failed ({status}): {text}", **kw)
        return BadRequest(f"the batch's request was rejected ({status}): {text}", **kw)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _result(reading: Reading, status: int, rid: str | None) -> ChatResult:
    usage = reading.usage
    return ChatResult(
        text=reading.text, finish_reason=reading.finish_reason,
        prompt_tokens=usage[0] if usage else 0, completion_tokens=usage[1] if usage else 0,
        cached_tokens=usage[2] if usage else 0, reasoning_tokens=usage[3] if usage else 0,
        refusal=reading.refusal, tool_calls=tuple(reading.tool_calls),
        logprobs=None if reading.logprobs is None else tuple(reading.logprobs),
        usage_estimated=usage is None, response_model=reading.model, status_code=status,
        request_id=rid)
