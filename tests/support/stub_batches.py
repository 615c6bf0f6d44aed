"""The loopback server's Files and Batches API (OpenAIStub.batch_api), driven by the test.

Endpoints: ``POST /v1/files`` (multipart: ``purpose``, ``file``), ``GET /v1/files/{id}``,
``GET /v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches`` (``limit``, ``after``),
``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, in the shapes of openai.types
(FileObject, Batch with request_counts).

Nothing moves by itself: a batch is ``validating`` until the test calls ``advance()``, which
moves every unfinished batch one step (validating → in_progress → finalizing → completed;
cancelling → cancelled). At ``finalizing`` each line is answered by the stub's own chat or
responses logic (no latency, no faults) and the output and error files are written, keyed by
``custom_id``; ``fail_line(custom_id)`` makes that line's answer an error (error file),
``expire(batch_id, answered=k)`` ends a batch ``expired`` with only its first k lines answered
(the rest in the error file with code ``batch_expired``). ``fail_next(...)`` answers the next
Files/Batches calls with an error status (429 with retry-after, 500, ...).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.support.openai_stub import OpenAIStub, RecordedRequest, _Handler

STEPS = {"validating": "in_progress", "in_progress": "finalizing", "finalizing": "completed",
         "cancelling": "cancelled"}
FINISHED = {"completed", "expired", "cancelled", "failed"}
Reply = Callable[..., None]


@dataclass
class StubBatch:
    id: str
    input_file_id: str
    endpoint: str
    metadata: dict[str, str]
    status: str = "validating"
    created_at: int = field(default_factory=lambda: int(time.time()))
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    total: int = 0
    times: dict[str, int] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "object": "batch", "endpoint": self.endpoint, "errors": None,
                "input_file_id": self.input_file_id, "completion_window": "24h",
                "status": self.status, "output_file_id": self.output_file_id,
                "error_file_id": self.error_file_id, "created_at": self.created_at,
                "expires_at": self.created_at + 86_400,
                **{f"{k}_at": v for k, v in self.times.items()},
                "request_counts": {"total": self.total, "completed": self.completed,
                                   "failed": self.failed},
                "metadata": self.metadata}


class BatchApiStub:
    """The state of the stub's files and batches; see the module doc."""

    def __init__(self, stub: OpenAIStub) -> None:
        self.stub = stub
        self.lock = threading.Lock()
        self.files: dict[str, tuple[str, str, bytes]] = {}  # id -> (filename, purpose, bytes)
        self.batches: dict[str, StubBatch] = {}
        self.failing_lines: dict[str, tuple[int, str]] = {}
        self._faults: list[tuple[str, int, dict[str, str]]] = []  # (path prefix, status, headers)
        self._ids = itertools.count(1)

    # -- driven by the test --

    def advance(self, batch_id: str | None = None) -> None:
        """Move one batch (or every unfinished one) a step on."""
        with self.lock:
            chosen = [self.batches[batch_id]] if batch_id else list(self.batches.values())
        for b in chosen:
            if b.status in STEPS:
                self._step(b, STEPS[b.status])

    def finish(self, batch_id: str | None = None) -> None:
        """Advance until finished."""
        for _ in range(4):
            self.advance(batch_id)

    def expire(self, batch_id: str, answered: int = 0) -> None:
        b = self.batches[batch_id]
        self._answer(b, limit=answered, rest=("batch_expired", "This request could not be "
                                              "executed before the completion window expired."))
        self._set(b, "expired")

    def fail_line(self, custom_id: str, status: int = 400,
                  message: str = "Invalid value for 'temperature'.") -> None:
        self.failing_lines[custom_id] = (status, message)

    def fail_next(self, path: str, status: int = 429, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """The next `times` calls whose path starts with `path` answer `status`."""
        with self.lock:
            self._faults += [(path, status, dict(headers or {}))] * times

    def lines(self, file_id: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.files[file_id][2].splitlines() if x.strip()]

    @property
    def created(self) -> int:
        return len(self.batches)

    # -- the HTTP side --

    def handle(self, h: _Handler, record: RecordedRequest, raw: bytes, reply: Reply) -> None:
        url = urlsplit(h.path)
        path = url.path.rstrip("/")
        with self.lock:
            fault = next((f for f in self._faults if path.startswith(f[0])), None)
            if fault is not None:
                self._faults.remove(fault)
        if fault is not None:
            status = fault[1]
            kind = "rate_limit_exceeded" if status == 429 else "server_error"
            return reply(status, {"error": {"message": f"stub fault {status}", "type": kind,
                                            "param": None, "code": kind}}, fault[2])
        parts = path.split("/")[2:]  # ["files", id, "content"] / ["batches", id, "cancel"]
        if parts == ["files"] and h.command == "POST":
            return reply(200, self._upload(h, raw))
        if parts[:1] == ["files"] and len(parts) >= 2 and parts[1] in self.files:
            name, purpose, data = self.files[parts[1]]
            if parts[2:] == ["content"]:
                record.status = 200
                h.send_head(200, {"Content-Type": "application/octet-stream",
                                  "Content-Length": str(len(data))})
                h.wfile.write(data)
                return None
            return reply(200, self._file_json(parts[1], name, purpose, data))
        if parts == ["batches"] and h.command == "POST":
            body = json.loads(raw or b"{}")
            if body.get("input_file_id") not in self.files:
                return reply(400, {"error": {"message": "No such File object", "type":
                                             "invalid_request_error", "param": "input_file_id",
                                             "code": None}})
            b = StubBatch(f"batch_{next(self._ids):06d}", body["input_file_id"],
                          body["endpoint"], dict(body.get("metadata") or {}))
            b.total = len(self.lines(b.input_file_id))
            with self.lock:
                self.batches[b.id] = b
            return reply(200, b.json())
        if parts == ["batches"]:
            return reply(200, self._list(parse_qs(url.query)))
        if parts[:1] == ["batches"] and len(parts) >= 2 and parts[1] in self.batches:
            b = self.batches[parts[1]]
            if parts[2:] == ["cancel"] and h.command == "POST" and b.status not in FINISHED:
                self._set(b, "cancelling")
            return reply(200, b.json())
        return reply(404, {"error": {"message": f"Invalid URL ({h.command} {path})",
                                     "type": "invalid_request_error", "param": None,
                                     "code": None}})

    def _upload(self, h: _Handler, raw: bytes) -> dict[str, Any]:
        head = f"Content-Type: {h.headers['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            fields[name] = (part.get_filename(), part.get_payload(decode=True))
        filename, data = fields["file"]
        purpose = fields["purpose"][1].decode()
        file_id = f"file-{next(self._ids):06d}"
        with self.lock:
            self.files[file_id] = (filename or "upload.jsonl", purpose, data)
        return self._file_json(file_id, filename or "upload.jsonl", purpose, data)

    def _file_json(self, file_id: str, name: str, purpose: str, data: bytes) -> dict[str, Any]:
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at":
                int(time.time()), "filename": name, "purpose": purpose, "status": "processed"}

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        newest = sorted(self.batches.values(), key=lambda b: b.id, reverse=True)
        after = (query.get("after") or [None])[0]
        if after:
            newest = [b for b in newest if b.id < after]
        limit = int((query.get("limit") or ["20"])[0])
        page = newest[:limit]
        return {"object": "list", "data": [b.json() for b in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None, "has_more": len(newest) > limit}

    # -- answering --

    def _step(self, b: StubBatch, status: str) -> None:
        if status == "finalizing":
            self._answer(b)
        self._set(b, status)

    def _set(self, b: StubBatch, status: str) -> None:
        b.status = status
        b.times[status if status != "in_progress" else "in_progress"] = int(time.time())

    def _answer(self, b: StubBatch, limit: int | None = None,
                rest: tuple[str, str] | None = None) -> None:
        out, err = [], []
        for n, line in enumerate(self.lines(b.input_file_id)):
            cid = line["custom_id"]
            rid = f"req_batch_{b.id}_{n}"
            if limit is not None and n >= limit:
                if rest is not None:
                    err.append({"id": f"batch_req_{n}", "custom_id": cid, "response": None,
                                "error": {"code": rest[0], "message": rest[1]}})
                continue
            if cid in self.failing_lines:
                status, message = self.failing_lines[cid]
                err.append({"id": f"batch_req_{n}", "custom_id": cid, "response": {
                    "status_code": status, "request_id": rid, "body": {"error": {
                        "message": message, "type": "invalid_request_error", "param": None,
                        "code": None}}}, "error": None})
                continue
            status, payload = self.stub.answer(line["url"], line["body"])
            out.append({"id": f"batch_req_{n}", "custom_id": cid, "response": {
                "status_code": status, "request_id": rid, "body": payload}, "error": None})
        b.completed, b.failed = len(out), len(err)
        for rows, attr in ((out, "output_file_id"), (err, "error_file_id")):
            if rows:
                file_id = f"file-{next(self._ids):06d}"
                data = "".join(json.dumps(r) + "\n" for r in rows).encode()
                self.files[file_id] = (f"{b.id}_{attr}.jsonl", "batch_output", data)
                setattr(b, attr, file_id)
