"""A loopback OpenAI-compatible server for tests and benchmarks (standard library only).

In-process::

    with OpenAIStub(latency=0.0, api_key="sk-test") as stub:
        client = OpenAI(base_url=stub.base_url, api_key="sk-test", max_retries=0)
        ...
        assert stub.count("/v1/chat/completions") == 1

As a separate process (benchmarks, node and curl tests)::

    python -m tests.support.openai_stub --port 0 --latency 0.1
    # prints one line "READY http://127.0.0.1:PORT/v1", then serves until SIGTERM/SIGINT

Endpoints: ``GET /v1/models``, ``GET /v1/models/{id}``, ``POST /v1/chat/completions`` and
``POST /v1/responses`` (plain JSON and SSE streaming), with OpenAI's response and error shapes;
``POST /v1/embeddings`` (tests/support/stub_embeddings.py).
Anything else answers 404; so does ``/v1/responses`` with ``responses_api=False``, as llama.cpp's
server (which has no Responses API) does. Tool calls, JSON-schema answers, reasoning tokens and
logprobs follow tests/support/stub_answers.py; the Responses shapes tests/support/stub_responses.py.

Stub conventions (deliberately simple, and deterministic):

* A "token" is a whitespace-separated word. ``usage.prompt_tokens`` is the number of words across
  the text of all message contents (string contents, and the ``text`` of list-of-parts contents);
  ``usage.completion_tokens`` is the number of words in the answer (summed over ``n`` choices).
* The answer is ``"Echo: " + <last user message>`` followed by ``filler_words`` filler words
  (``stub.reply_with`` overrides it with a string or a ``callable(body) -> str``). ``stop`` cuts it
  at the earliest stop string (finish_reason "stop"); then ``max_completion_tokens`` (or
  ``max_tokens``, or ``max_output_tokens``) truncates it to that many words, reasoning tokens
  first (finish_reason "length"; Responses: status "incomplete"). ``refuse_with`` makes every
  answer that refusal instead (chat ``message.refusal``; Responses a ``refusal`` part), and
  ``cached_tokens`` is reported as cached (at most the prompt) on both APIs.
* Streaming sends one chunk with the role, one chunk per word (with its leading whitespace), one
  chunk with finish_reason, the usage chunk (``choices: []``) when
  ``stream_options.include_usage`` is true and ``stub.stream_usage`` is on, then ``data: [DONE]``.
  Streams use chunked transfer encoding, so a cut stream is a protocol error for the client.
* Answers name the requested model in ``model``, or ``answer_as`` when set (a compatible server
  answering with its own model, whatever was asked).
* Each recorded request has monotonic ``started``/``ended`` times (``max_in_flight()``), so tests
  prove concurrency from what the server saw rather than from a stopwatch.
* Responses streams send ``event: <type>`` / ``data: <json>`` pairs (no ``[DONE]``), from
  ``response.created`` to ``response.completed`` (or ``response.incomplete``/``response.failed``).
* ``latency`` and every fault apply to chat completions and responses alike, before any byte of
  the answer; both sleeps are interrupted by ``stop()``. ``fail_response_next`` (Responses only)
  answers a failed Response: a 200 with ``status: "failed"``, or a ``response.failed`` event.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import socketserver
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.support import stub_batches, stub_embeddings, stub_responses
from tests.support.stub_answers import (
    Plan,
    conversation,
    echo,
    logprobs,
    output_limit,
    reasoning_tokens,
    structured,
    tool_calls,
    wants_logprobs,
)

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4.1-nano", "gpt-4o", "o4-mini", "smollm2")
CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"
RATE_WINDOW_S = 60.0
_WORD = re.compile(r"\s*\S+")
_QUIET_ERRORS = (ConnectionError, TimeoutError)  # BrokenPipe, ConnectionReset/Aborted, timeouts


@dataclass
class RecordedRequest:
    """One request as received. ``body`` is the parsed JSON object ({} when absent or invalid)."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    request_id: str
    status: int | None = None  # set when the response status is chosen
    tokens: int = 0  # usage.total_tokens of a successful chat completion
    received_at: float = field(default_factory=time.time)
    # Monotonic seconds: when handling began (body read) and when the last byte of the answer
    # was written (None while in flight). Tests prove concurrency from these, not a stopwatch.
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    in_window: bool = True  # counted in the last minute's x-ratelimit-* usage


@dataclass
class _Fault:
    kind: str  # "fail" | "stall" | "cut" | "malformed" | "failed" (a failed Response)
    times: int
    status: int = 429
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    after_chunks: int = 2
    code: str = "server_error"


def mask_key(key: str) -> str:
    """Mask all but the last 4 characters, as OpenAI does in its 401 message."""
    return "*" * len(key) if len(key) <= 4 else "*" * (len(key) - 4) + key[-4:]


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_FAULT_ERRORS = {
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def _default_fault_body(status: int) -> dict:
    default = (
        f"Injected failure (HTTP {status}).",
        "server_error" if status >= 500 else "invalid_request_error",
        None,
    )
    return error_body(*_FAULT_ERRORS.get(status, default))


def _truncate_words(text: str, limit: int) -> tuple[str, bool]:
    """Keep the first ``limit`` words (original spacing); report whether anything was cut."""
    words = list(_WORD.finditer(text))
    if len(words) <= limit:
        return text, False
    return (text[: words[limit - 1].end()] if limit > 0 else ""), True


def _pieces(text: str) -> list[str]:
    """Split into stream deltas: one word each, with its leading whitespace; nothing is lost."""
    pieces = _WORD.findall(text)
    rest = text[sum(map(len, pieces)) :]
    if rest:
        pieces = [*pieces[:-1], pieces[-1] + rest] if pieces else [rest]
    return pieces


def _chat_call(call: dict[str, str]) -> dict[str, Any]:
    return {"id": call["call_id"], "type": "function",
            "function": {"name": call["name"], "arguments": call["arguments"]}}


def _format_reset(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}m{secs:.0f}s" if minutes else f"{secs:.3g}s"


class _Server(ThreadingHTTPServer):
    """Daemon handler threads, tracked with their sockets so ``stop()`` can end and join them."""

    daemon_threads = True
    block_on_close = False  # joined by OpenAIStub.stop() after the connections are shut down
    request_queue_size = 256  # 50+ simultaneous connects must not overflow the listen backlog

    def __init__(self, address: tuple[str, int], stub: OpenAIStub) -> None:
        self.stub = stub
        self.live: dict[threading.Thread, socket.socket] = {}
        self.live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn(), which may do a slow DNS lookup
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve, args=(request, client_address), daemon=True, name="openai-stub"
        )
        with self.live_lock:
            self.live[thread] = request
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.live_lock:
                self.live.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, _QUIET_ERRORS) and not self.stub.stopping.is_set():
            self.stub.errors.append(error)  # kept for debugging; nothing goes to stderr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "openai-stub/1.0"
    disable_nagle_algorithm = True  # small SSE writes must not wait for delayed ACKs
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks want a silent server

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        self.record: RecordedRequest | None = None
        try:
            self.server.stub._handle(self)
        except _QUIET_ERRORS:
            self.close_connection = True
        finally:
            if self.record is not None:
                self.record.ended = time.monotonic()

    # -- wire helpers used by OpenAIStub._handle --------------------------------------------------
    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return bytes(data)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send_json(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_head(
            status, {"Content-Type": "application/json", "Content-Length": str(len(raw)), **headers}
        )
        self.wfile.write(raw)

    def send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


class OpenAIStub:
    """An OpenAI-compatible HTTP server on 127.0.0.1 (random port by default); see module doc."""

    def __init__(
        self,
        latency: float = 0.0,
        api_key: str | None = None,
        *,
        models: list[str] | tuple[str, ...] = DEFAULT_MODELS,
        strict_models: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        ratelimit_requests: int = 1_000_000,
        ratelimit_tokens: int = 1_000_000_000,
        filler_words: int = 12,
        chunk_delay: float = 0.0,
        reply_with: str | Callable[[dict[str, Any]], str] | None = None,
        stream_usage: bool = True,
        reject_stream_options: bool = False,
        answer_as: str | None = None,
        responses_api: bool = True,
        cached_tokens: int = 0,
        reasoning_tokens: int = 8,
        refuse_with: str | None = None,
    ) -> None:
        self.latency, self.api_key = latency, api_key
        self.models, self.strict_models = list(models), strict_models
        self.host, self.port = host, port
        self.ratelimit_requests, self.ratelimit_tokens = ratelimit_requests, ratelimit_tokens
        self.filler_words, self.chunk_delay = filler_words, chunk_delay
        self.reply_with = reply_with
        self.stream_usage, self.reject_stream_options = stream_usage, reject_stream_options
        self.answer_as = answer_as  # the `model` answers name, as llama.cpp names its own file
        self.responses_api, self.cached_tokens = responses_api, cached_tokens
        self.reasoning_tokens, self.refuse_with = reasoning_tokens, refuse_with
        self.errors: list[BaseException] = []  # unexpected server-side exceptions
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._fail_every: tuple[int, int, dict[str, Any]] | None = None  # (k, seq at set, kwargs)
        self._chat_seq = 0
        self._next_id = 0
        self._window: deque[RecordedRequest] = deque()  # last minute, for x-ratelimit-* headers
        self._window_tokens = 0  # their tokens, summed as they are booked (O(1) per request)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.batch_api = stub_batches.BatchApiStub(self)  # /v1/files and /v1/batches

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> OpenAIStub:
        if self._server is None:
            self.stopping.clear()
            self._server = _Server((self.host, self.port), self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="openai-stub-accept",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()  # wakes handlers sleeping in latency/stall/chunk_delay
        server.shutdown()
        server.server_close()
        with server.live_lock:
            live = list(server.live.items())
        for _, conn in live:  # wake handlers blocked reading an idle keep-alive connection
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread, _ in live:
            thread.join(timeout=5)
        assert self._thread is not None
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("OpenAIStub is not running; call start() or use it as a context")
        return f"http://{self.host}:{self._server.server_port}/v1"

    # -- recorded requests ----------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot (copy) of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self._requests if path is None or r.path == path)

    def max_in_flight(self, path: str | None = CHAT_PATH) -> int:
        """The most requests to ``path`` the server was handling at one moment (finished ones
        only), from the start and end times it recorded."""
        edges = sorted(
            edge
            for r in self.requests
            if (path is None or r.path == path) and r.ended is not None
            for edge in ((r.started, 1), (r.ended, -1))
        )  # at equal times the end (-1) sorts first: back-to-back is not overlapping
        most = now = 0
        for _, step in edges:
            now += step
            most = max(most, now)
        return most

    def reset(self) -> None:
        """Forget recorded requests, ratelimit usage and all pending faults (config stays)."""
        with self._lock:
            self._requests.clear()
            self._window.clear()
            self._window_tokens = 0
            self._chat_seq = 0
        self.clear_faults()

    # -- fault injection (chat completions only) ------------------------------------------------
    def fail_next(
        self,
        status: int = 429,
        headers: dict[str, str] | None = None,
        times: int = 1,
        body: dict | str | bytes | None = None,
    ) -> None:
        """The next ``times`` chat requests answer ``status`` with ``headers`` and ``body``
        (default: OpenAI's error JSON for that status)."""
        self._add(_Fault("fail", times, status=status, headers=dict(headers or {}), body=body))

    def fail_every(
        self,
        k: int | None,
        status: int = 429,
        headers: dict[str, str] | None = None,
        body: dict | str | bytes | None = None,
    ) -> None:
        """Every k-th chat request from now on fails (k, 2k, ...); ``k=None`` or 0 turns it off."""
        with self._lock:
            args = {"status": status, "headers": dict(headers or {}), "body": body}
            self._fail_every = (k, self._chat_seq, args) if k else None

    def stall_next(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` chat requests sleep ``seconds`` before answering."""
        self._add(_Fault("stall", times, seconds=seconds))

    def cut_stream_next(self, after_chunks: int = 2, times: int = 1) -> None:
        """Streams: send ``after_chunks`` SSE events, then close without [DONE]. Non-streams: send
        the headers and half the body (Content-Length says more), then close."""
        self._add(_Fault("cut", times, after_chunks=after_chunks))

    def malformed_next(self, times: int = 1) -> None:
        """The next ``times`` chat requests answer 200 with a body (or SSE data) that isn't JSON."""
        self._add(_Fault("malformed", times))

    def fail_response_next(
        self, code: str = "server_error", message: str = "The model failed.", times: int = 1
    ) -> None:
        """The next ``times`` Responses requests answer a Response with ``status: "failed"`` and
        ``error: {code, message}`` (chat requests leave this fault alone)."""
        self._add(_Fault("failed", times, code=code, body=message))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._fail_every = None

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_faults(self, responses: bool) -> dict[str, _Fault]:
        """Consume at most one pending fault of each kind for this request."""
        taken: dict[str, _Fault] = {}
        with self._lock:
            self._chat_seq += 1
            for fault in self._faults:
                if fault.kind not in taken and (responses or fault.kind != "failed"):
                    taken[fault.kind] = fault
                    fault.times -= 1
            self._faults = [f for f in self._faults if f.times > 0]
            if "fail" not in taken and self._fail_every is not None:
                k, since, args = self._fail_every
                if (self._chat_seq - since) % k == 0:
                    taken["fail"] = _Fault("fail", 0, **args)
        return taken

    # -- request handling -----------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        raw = h.read_body()
        path = urlsplit(h.path).path.rstrip("/") or "/"
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = None
        with self._lock:
            self._next_id += 1
            record = RecordedRequest(
                h.command,
                path,
                body if isinstance(body, dict) else {},
                {k.lower(): v for k, v in h.headers.items()},
                f"req_{self._next_id}",
            )
            self._requests.append(record)
            self._window.append(record)
        h.record = record

        def reply(status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
            record.status = status
            h.send_json(status, payload, {**self._headers(record), **(extra or {})})

        denied = self._auth_error(record.headers.get("authorization", ""))
        if denied:
            return reply(401, denied)
        if path.startswith(("/v1/files", "/v1/batches")):
            return self.batch_api.handle(h, record, raw, reply)
        if h.command == "GET" and path == "/v1/models":
            return reply(200, {"object": "list", "data": [self._model(m) for m in self.models]})
        if h.command == "GET" and path.startswith("/v1/models/"):
            name = path.removeprefix("/v1/models/")
            if name in self.models:
                return reply(200, self._model(name))
            return reply(404, self._no_model(name))
        if path == RESPONSES_PATH and h.command == "POST" and not self.responses_api:
            # llama.cpp's answer to a route it does not have
            return reply(404, {"error": {"code": 404, "message": "File Not Found",
                                         "type": "not_found_error"}})
        if h.command == "POST" and path == stub_embeddings.PATH:
            return stub_embeddings.serve(self, record, body, reply)
        if h.command != "POST" or path not in (CHAT_PATH, RESPONSES_PATH):
            msg = f"Invalid URL ({h.command} {path})"
            return reply(404, error_body(msg, "invalid_request_error", None))
        if not isinstance(body, dict):
            msg = "We could not parse the JSON body of your request."
            return reply(400, error_body(msg, "invalid_request_error", None))
        responses = path == RESPONSES_PATH
        for required in ("model", "input" if responses else "messages"):
            if required not in body:
                msg = f"Missing required parameter: '{required}'."
                code = "missing_required_parameter"
                return reply(400, error_body(msg, "invalid_request_error", code, required))
        if self.strict_models and body["model"] not in self.models:
            return reply(404, self._no_model(body["model"]))
        return self._serve(h, record, body, reply, responses)

    def _serve(
        self,
        h: _Handler,
        record: RecordedRequest,
        body: dict[str, Any],
        reply: Callable[..., None],
        responses: bool,
        batch: bool = False,
    ) -> None:
        faults = {} if batch else self._take_faults(responses)
        if "stall" in faults and self.stopping.wait(faults["stall"].seconds):
            h.close_connection = True
            return None
        if fail := faults.get("fail"):
            payload = _default_fault_body(fail.status) if fail.body is None else fail.body
            payload = payload.encode() if isinstance(payload, str) else payload
            return reply(fail.status, payload, fail.headers)
        if self.reject_stream_options and "stream_options" in body:
            msg = "Unrecognized request argument supplied: stream_options"
            return reply(400, error_body(msg, "invalid_request_error", None))
        if self.latency and not batch and self.stopping.wait(self.latency):
            h.close_connection = True
            return None
        stream = bool(body.get("stream"))
        if "malformed" in faults:
            if stream:
                record.status = 200
                h.send_head(200, self._sse_headers(record))
                if responses:
                    h.send_chunk(b'event: response.created\ndata: {"type": "response.cr\n\n')
                else:
                    h.send_chunk(b'data: {"id": "chatcmpl-malformed", "choices": [\n\n')
                    h.send_chunk(b"data: [DONE]\n\n")
                h.send_chunk(b"")
                return None
            return reply(200, b'{"id": "chatcmpl-malformed", "object": "chat.completion", "choi')
        plan = self._plan(body)
        if responses:
            return self._respond(h, record, body, plan, faults, reply)
        n = max(1, int(body.get("n") or 1))
        usage = self._usage(plan, n)
        self._book_tokens(record, usage["total_tokens"])
        cut = faults.get("cut")
        finish = "tool_calls" if plan.calls else "length" if plan.truncated else "stop"
        if stream:
            return self._stream(h, record, body, plan, finish, n, usage, cut)
        top = wants_logprobs(body)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if plan.calls or plan.refusal is not None else plan.text,
            "refusal": plan.refusal,
            "annotations": [],
        }
        if plan.calls:
            message["tool_calls"] = [_chat_call(c) for c in plan.calls]
        choice_logprobs = (
            {"content": logprobs(_pieces(plan.text), top), "refusal": None}
            if top is not None and not plan.calls and plan.refusal is None
            else None
        )
        payload = json.dumps(
            {
                **self._envelope(record, body, "chat.completion"),
                "choices": [
                    {
                        "index": i,
                        "message": message,
                        "logprobs": choice_logprobs,
                        "finish_reason": finish,
                    }
                    for i in range(n)
                ],
                "usage": usage,
            }
        ).encode()
        return self._send_plain(h, record, payload, cut, reply)

    def _send_plain(
        self,
        h: _Handler,
        record: RecordedRequest,
        payload: bytes,
        cut: _Fault | None,
        reply: Callable[..., None],
    ) -> None:
        if cut is None:
            return reply(200, payload)
        record.status = 200
        h.send_head(
            200,
            {
                "Content-Type": "application/json",
                "Content-Length": str(len(payload)),
                **self._headers(record),
            },
        )
        h.wfile.write(payload[: len(payload) // 2])
        h.close_connection = True
        return None

    def _respond(
        self,
        h: _Handler,
        record: RecordedRequest,
        body: dict[str, Any],
        plan: Plan,
        faults: dict[str, _Fault],
        reply: Callable[..., None],
    ) -> None:
        """POST /v1/responses once the faults before the answer are dealt with."""
        rid = f"stub{record.request_id.removeprefix('req_'):0>16}"
        pieces = _pieces(plan.refusal if plan.refusal is not None else plan.text)
        top = wants_logprobs(body)
        failed = faults.get("failed")
        error = {"code": failed.code, "message": failed.body} if failed else None
        self._book_tokens(record, 0 if error else plan.prompt + plan.output_tokens)
        cut = faults.get("cut")
        if not body.get("stream"):
            obj = stub_responses.response(rid, body, plan, pieces, top, error=error)
            return self._send_plain(h, record, json.dumps(obj).encode(), cut, reply)
        record.status = 200
        h.send_head(200, self._sse_headers(record))
        for sent, event in enumerate(stub_responses.events(rid, body, plan, pieces, top,
                                                           error=error)):
            if cut is not None and sent >= cut.after_chunks:
                h.close_connection = True  # no terminating chunk: a truncated body
                return None
            if sent and self.chunk_delay and self.stopping.wait(self.chunk_delay):
                h.close_connection = True
                return None
            data = json.dumps(event).encode()
            h.send_chunk(b"event: %s\ndata: %s\n\n" % (event["type"].encode(), data))
        h.send_chunk(b"")
        return None

    def _stream(
        self,
        h: _Handler,
        record: RecordedRequest,
        body: dict[str, Any],
        plan: Plan,
        finish: str,
        n: int,
        usage: dict,
        cut: _Fault | None,
    ) -> None:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = self._envelope(record, body, "chat.completion.chunk")
        if include_usage:
            base["usage"] = None
        top = wants_logprobs(body)

        def chunk(i: int, delta: dict, finish_reason: str | None = None, lp: Any = None) -> dict:
            choice = {"index": i, "delta": delta, "logprobs": lp, "finish_reason": finish_reason}
            return {**base, "choices": [choice]}

        def events() -> Iterator[dict]:
            yield from (
                chunk(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(n)
            )
            for k, call in enumerate(plan.calls):
                start = {"index": k, "id": call["call_id"], "type": "function",
                         "function": {"name": call["name"], "arguments": ""}}
                rest = {"index": k, "function": {"arguments": call["arguments"]}}
                yield from (chunk(i, {"tool_calls": [start]}) for i in range(n))
                yield from (chunk(i, {"tool_calls": [rest]}) for i in range(n))
            if plan.refusal is not None:
                for piece in _pieces(plan.refusal):
                    yield from (chunk(i, {"refusal": piece}) for i in range(n))
            elif not plan.calls:
                pieces = _pieces(plan.text)
                probs = logprobs(pieces, top) if top is not None else None
                for j, piece in enumerate(pieces):
                    lp = {"content": probs[j : j + 1], "refusal": None} if probs else None
                    yield from (chunk(i, {"content": piece}, lp=lp) for i in range(n))
            yield from (chunk(i, {}, finish) for i in range(n))
            if include_usage and self.stream_usage:
                yield {**base, "choices": [], "usage": usage}

        record.status = 200
        h.send_head(200, self._sse_headers(record))
        for sent, event in enumerate(events()):
            if cut is not None and sent >= cut.after_chunks:
                break
            if sent and self.chunk_delay and self.stopping.wait(self.chunk_delay):
                break
            h.send_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
        else:
            h.send_chunk(b"data: [DONE]\n\n")
            h.send_chunk(b"")  # end of the chunked body
            return
        h.close_connection = True  # no terminating chunk: the client sees a truncated body

    def answer(self, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        """A batch line's answer: (status, JSON) as a plain POST to `url` would get it, without
        latency or faults (tests/support/stub_batches.py)."""
        with self._lock:
            self._next_id += 1
            record = RecordedRequest("POST", url, body, {}, f"req_{self._next_id}")
        got: list[tuple[int, Any]] = []

        def capture(status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
            got.append((status, json.loads(payload) if isinstance(payload, bytes) else payload))

        body = {**body, "stream": False}
        self._serve(None, record, body, capture, url == RESPONSES_PATH, batch=True)  # type: ignore[arg-type]
        return got[0]

    # -- answer, usage and shapes ---------------------------------------------------------------
    def _plan(self, body: dict[str, Any]) -> Plan:
        """What this request is answered with, on either API (see stub_answers)."""
        turns = conversation(body)
        prompt = sum(len(t.text.split()) for t in turns)
        plan = Plan(prompt=prompt, cached=min(self.cached_tokens, prompt),
                    reasoning=reasoning_tokens(body, self.reasoning_tokens))
        limit = output_limit(body)
        if limit is not None and plan.reasoning >= limit and plan.reasoning:
            plan.reasoning, plan.truncated = limit, True  # thought until the limit
            return plan
        plan.calls = tool_calls(body, turns)
        if plan.calls:
            return plan
        after_tool = bool(turns) and turns[-1].role == "tool"
        if self.refuse_with is not None and not after_tool:
            plan.refusal = self.refuse_with
            return plan
        reply_with = self.reply_with
        if after_tool:
            results = []
            for t in reversed(turns):
                if t.role != "tool":
                    break
                results.insert(0, t.text)
            text = "Tool result: " + "; ".join(results)
        elif callable(reply_with):
            text = reply_with(body)
        elif reply_with is not None:
            text = reply_with
        else:
            text = echo(turns, self.filler_words)
        text = structured(body, text) or text
        stops = body.get("stop") or []
        for stop in [stops] if isinstance(stops, str) else stops:
            if stop and stop in text:
                text = text[: text.index(stop)]
        if limit is not None:
            text, plan.truncated = _truncate_words(text, limit - plan.reasoning)
        plan.text = text
        return plan

    def _usage(self, plan: Plan, n: int) -> dict[str, Any]:
        completion = plan.output_tokens * n
        return {
            "prompt_tokens": plan.prompt,
            "completion_tokens": completion,
            "total_tokens": plan.prompt + completion,
            "prompt_tokens_details": {"cached_tokens": plan.cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": plan.reasoning * n,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def _envelope(self, record: RecordedRequest, body: dict[str, Any], obj: str) -> dict:
        return {
            "id": f"chatcmpl-stub{record.request_id.removeprefix('req_'):0>16}",
            "object": obj,
            "created": int(time.time()),
            "model": self.answer_as or body["model"],
            "service_tier": "default",
            "system_fingerprint": "fp_openai_stub",
        }

    def _model(self, name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "openai-stub"}

    def _no_model(self, name: str) -> dict[str, Any]:
        msg = f"The model `{name}` does not exist or you do not have access to it."
        return error_body(msg, "invalid_request_error", "model_not_found")

    def _auth_error(self, authorization: str) -> dict[str, Any] | None:
        if self.api_key is None:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            msg = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return error_body(msg, "invalid_request_error", None)
        if token.strip() != self.api_key:
            msg = f"Incorrect API key provided: {mask_key(token.strip())}."
            return error_body(msg, "invalid_request_error", "invalid_api_key")
        return None

    def _book_tokens(self, record: RecordedRequest, tokens: int) -> None:
        with self._lock:
            if record.in_window:
                self._window_tokens += tokens - record.tokens
            record.tokens = tokens

    def _headers(self, record: RecordedRequest) -> dict[str, str]:
        now = time.time()
        with self._lock:
            while self._window and now - self._window[0].received_at > RATE_WINDOW_S:
                gone = self._window.popleft()
                gone.in_window = False
                self._window_tokens -= gone.tokens
            used_requests = len(self._window)
            used_tokens = self._window_tokens
            reset = RATE_WINDOW_S - (now - self._window[0].received_at) if self._window else 0.0
        return {
            "x-request-id": record.request_id,
            "openai-processing-ms": str(round((time.time() - record.received_at) * 1000)),
            "x-ratelimit-limit-requests": str(self.ratelimit_requests),
            "x-ratelimit-remaining-requests": str(max(0, self.ratelimit_requests - used_requests)),
            "x-ratelimit-limit-tokens": str(self.ratelimit_tokens),
            "x-ratelimit-remaining-tokens": str(max(0, self.ratelimit_tokens - used_tokens)),
            "x-ratelimit-reset-requests": _format_reset(reset),
            "x-ratelimit-reset-tokens": _format_reset(reset),
        }

    def _sse_headers(self, record: RecordedRequest) -> dict[str, str]:
        return {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "Transfer-Encoding": "chunked",
            **self._headers(record),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback OpenAI-compatible stub server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated")
    parser.add_argument("--strict-models", action="store_true")
    parser.add_argument("--no-stream-usage", action="store_true")
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    stub = OpenAIStub(
        latency=args.latency,
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        models=[m for m in args.models.split(",") if m],
        strict_models=args.strict_models,
        chunk_delay=args.chunk_delay,
        stream_usage=not args.no_stream_usage,
    )
    with stub:
        print(f"READY {stub.base_url}", flush=True)
        try:
            while not done.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
