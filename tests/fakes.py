"""Hand-written fakes of the ports, for unit tests of services.

FakeExperimentRepository is checked against the real DuckDB repository by one contract suite
(tests/adapters/test_repository_contract.py), so services tested with it see the same rules.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from nbplayground.adapters.duckdb import batch_rows, rows
from nbplayground.adapters.duckdb.score_rows import score_rows
from nbplayground.domain import APIRequest, Experiment
from nbplayground.domain.batch import BatchRecord
from nbplayground.evaluation.ports import Embedded
from tests.factories import make_experiment

__all__ = ["FakeEmbedder", "FakeEmbeddingCache", "FakeExperimentRepository",
           "FakePromptRepository", "make_experiment"]


class FakeExperimentRepository:
    """In memory: idempotent add, newest-first list, newest ok per cache key, sweep upserts."""

    def __init__(self, experiments: Sequence[Experiment] = ()) -> None:
        self.experiments: dict[str, Experiment] = {}  # insertion order = log order
        self.api_requests: list[APIRequest] = []
        self.sweeps: dict[str, dict[str, Any]] = {}
        self.usage: list[dict[str, Any]] = []
        self.scored: dict[tuple[str, str | None, str], Any] = {}
        self.judged: dict[str, str] = {}  # judge's experiment id -> the experiment it judged
        self.attachments: dict[str, dict[str, Any]] = {}
        self.batch_rows: dict[str, dict[str, Any]] = {}  # the `batches` table, as rows
        self.batches_written = 0
        if experiments:
            self.add(experiments)

    def add(self, experiments: Sequence[Experiment], requests: Sequence[APIRequest] = (), *,
            usage: Sequence[Mapping[str, Any]] = (),
            sweep: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
            scores: Sequence[Any] = ()) -> None:
        given = [] if sweep is None else [sweep] if isinstance(sweep, Mapping) else list(sweep)
        for row in given:  # all validated before anything is written
            rows.sweep_row(row, None)
        for sc in scores:  # one per (experiment, sweep, scorer): a newer one replaces it
            self.scored[(sc.experiment_id, sc.sweep_id, sc.scorer)] = sc
            if sc.judge_experiment_id is not None:
                self.judged[sc.judge_experiment_id] = sc.experiment_id
        ledger = rows.usage_frame(usage).to_dict("records") if usage else []
        batch = rows.unique_by_id(experiments)
        logged_before = {e.id for e in batch if e.id in self.experiments}
        known = {r.id for r in self.api_requests}
        for r in requests:
            if r.experiment_id not in logged_before and r.id not in known:
                self.api_requests.append(r)
                known.add(r.id)
        for e in batch:
            self.experiments.setdefault(e.id, e)
        booked = {u["id"] for u in self.usage}
        self.usage += [u for u in ledger if u["id"] not in booked]
        for row in given:
            self.sweeps[row["id"]] = rows.sweep_row(row, self.sweeps.get(row["id"]))
        self.batches_written += 1

    # -- BatchLog --

    def save_batch(self, batch: BatchRecord) -> None:
        self.batch_rows[batch.id] = batch_rows.batch_to_row(batch)

    def batches(self, *, user_id: str | None = None, sweep_id: str | None = None
                ) -> builtins.list[BatchRecord]:
        found = [batch_rows.batch_from_row(r) for r in self.batch_rows.values()]
        return sorted((b for b in found if (user_id is None or b.user_id == user_id)
                       and (sweep_id is None or b.sweep_id == sweep_id)),
                      key=lambda b: b.created_at)

    def save_attachments(self, items: Sequence[Mapping[str, Any]]) -> None:
        for item in items:
            self.attachments.setdefault(item["sha256"], dict(item))

    def get(self, experiment_id: str) -> Experiment | None:
        return self.experiments.get(experiment_id)

    def find_cached(self, cache_keys: Sequence[str]) -> dict[str, Experiment]:
        wanted = set(cache_keys)
        found: dict[str, Experiment] = {}
        for e in self._newest_first():
            if e.ok and e.cache_key in wanted and e.cache_key not in found:
                found[e.cache_key] = e
        return found

    def list(self, *, user_id: str | None = None, sweep_id: str | None = None,
             limit: int | None = None) -> builtins.list[Experiment]:
        return self._select(user_id=user_id, sweep_id=sweep_id, limit=limit)

    # -- read models, same columns as DuckDBExperimentRepository --

    def history(self, user_id: str | None = None, sweep_id: str | None = None,
                limit: int | None = None, search: str | None = None,
                model: str | None = None) -> pd.DataFrame:
        return rows.experiments_frame(self._select(
            user_id=user_id, sweep_id=sweep_id, limit=limit, search=search, model=model))

    def requests(self, experiment_id: str | None = None) -> pd.DataFrame:
        chosen = [r for r in self.api_requests
                  if experiment_id is None or r.experiment_id == experiment_id]
        df = rows.requests_frame(chosen, builtins.list(self.experiments.values()))
        return df.sort_values(["created_at", "experiment_id", "attempt"], kind="stable",
                              ignore_index=True)

    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        found = self.sweeps.get(sweep_id)
        return None if found is None else dict(found)

    def scores(self, *, sweep_id: str | None = None,
               experiment_ids: Sequence[str] | None = None,
               user_id: str | None = None) -> pd.DataFrame:
        ids = None if experiment_ids is None else set(experiment_ids)
        chosen = [sc for sc in self.scored.values()
                  if (sweep_id is None or sc.sweep_id == sweep_id)
                  and (ids is None or sc.experiment_id in ids)
                  and sc.experiment_id in self.experiments
                  and (user_id is None or self.experiments[sc.experiment_id].user_id == user_id)]
        return score_rows(chosen)

    # -- helpers --

    def _newest_first(self) -> builtins.list[Experiment]:
        order = enumerate(self.experiments.values())
        ranked = sorted(order, key=lambda t: (rows.as_utc(t[1].timestamp), t[0]), reverse=True)
        return [e for _, e in ranked]

    def _select(self, *, user_id: str | None = None, sweep_id: str | None = None,
                limit: int | None = None, search: str | None = None,
                model: str | None = None) -> builtins.list[Experiment]:
        rows.check_limit(limit)
        needle = None if search is None else search.lower()
        chosen = [
            e for e in self._newest_first()
            if (user_id is None or e.user_id == user_id)
            and (sweep_id is None or e.sweep_id == sweep_id)
            and (model is None or e.model == model)
            and (needle is None or any(needle in (text or "").lower()
                                       for text in (e.prompt, e.system, e.response)))
        ]
        return chosen if limit is None else chosen[:limit]


class FakePromptRepository:
    """In memory: a name's versions numbered 1, 2, ...; the same content finds its version."""

    def __init__(self) -> None:
        self.saved: builtins.list[Any] = []

    def save(self, draft: Any) -> Any:
        mine = [v for v in self.saved if (v.author, v.name) == (draft.author, draft.name)]
        for v in mine:
            if v.content_hash == draft.content_hash:
                return v
        stored = draft.model_copy(update={"version": len(mine) + 1})
        self.saved.append(stored)
        return stored

    def versions(self, user_id: str, name: str | None = None) -> builtins.list[Any]:
        return sorted((v for v in self.saved if v.author == user_id
                       and (name is None or v.name == name)), key=lambda v: (v.name, v.version))


class FakeChatClient:
    """A ChatClient that answers from a queue: `enqueue("text")` or `enqueue(SomeError(...))`."""

    def __init__(self, provider: str = "fake", base_url: str | None = None,
                 latency: float = 0.0) -> None:
        self.provider = provider
        self.base_url = base_url
        self.latency = latency
        self.replies: list[Any] = []
        self.history: list[Any] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def enqueue(self, *replies: Any) -> None:
        self.replies.extend(replies)

    def models(self) -> builtins.list[str]:
        return ["fake-model"]

    async def complete(self, request: Any, *, on_delta: Any = None) -> Any:
        import asyncio

        from nbplayground.domain import ChatResult

        self.history.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            reply = self.replies.pop(0) if self.replies else f"answer {len(self.history)}"
            if isinstance(reply, BaseException):
                raise reply
            if isinstance(reply, ChatResult):  # a whole answer: tool calls, logprobs, usage
                return reply
            if on_delta is not None:
                for word in reply.split(" "):
                    on_delta(word + " ")
            return ChatResult(text=reply, finish_reason="stop", prompt_tokens=10,
                              completion_tokens=len(reply.split()), request_id="req_fake")
        finally:
            self.in_flight -= 1


class FakeTokenizer:
    """One token per whitespace word, plus 3 per message and 3 for the reply."""

    def count_text(self, text: str, model: str) -> int:
        return len(text.split())

    def count_messages(self, messages: Sequence[Any], model: str) -> int:
        return sum(3 + len(m.content.split()) + 1 for m in messages) + 3


class FakePriceTable:
    """$1 per 1k prompt tokens, $2 per 1k completion tokens; 'free-model' is unpriced."""

    def price(self, model: str, prompt_tokens: int, completion_tokens: int,
              cached_tokens: int = 0, at: Any = None) -> float | None:
        if model == "unpriced-model":
            return None
        return prompt_tokens / 1000 + 2 * completion_tokens / 1000


class FakeEmbedder:
    """Vowel counts as vectors; records every batch it was asked, and fails when told to."""

    provider = "fake"
    model = "fake-vowels"

    def __init__(self, batch_size: int = 256) -> None:
        self.batch_size = batch_size
        self.calls: builtins.list[builtins.list[str]] = []
        self.fail_with: Exception | None = None

    def embed(self, texts: Sequence[str]) -> Embedded:
        self.calls.append(builtins.list(texts))
        if self.fail_with is not None:
            raise self.fail_with
        return Embedded([[float(t.lower().count(c)) for c in "aeiou"] for t in texts],
                        prompt_tokens=sum(len(t.split()) for t in texts))

    @property
    def sent(self) -> builtins.list[str]:
        return [t for batch in self.calls for t in batch]


class FakeEmbeddingCache:
    """The log's embeddings table in a dict (checked against DuckDB and PostgreSQL by
    tests/adapters/test_embedding_cache_contract.py)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def embeddings(self, keys: Sequence[str]) -> dict[str, builtins.list[float]]:
        return {k: builtins.list(self.rows[k]["vector"]) for k in keys if k in self.rows}

    def add_embeddings(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            self.rows.setdefault(row["key"], dict(row))


class FakeClock:
    """Time that passes only when something sleeps: `sleeps` records every wait asked for.
    `sleep` is the blocking kind (threads), `asleep` the awaitable kind (event loops)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # other tasks run, as they would while it waits


class FakeBatchApi:
    """The BatchApi port in memory: `finish(batch_id)` answers each line "answer to <id>" (3
    prompt, 2 completion tokens); `errors` are raised by the next calls, one each."""

    def __init__(self) -> None:
        import itertools

        self.files: dict[str, builtins.list[dict[str, Any]]] = {}
        self.batches: dict[str, Any] = {}
        self.errors: builtins.list[Exception] = []
        self.calls: builtins.list[str] = []
        self._ids = itertools.count(1)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.errors:
            raise self.errors.pop(0)

    def upload(self, path: Any) -> str:
        import json

        self._call("upload")
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = [json.loads(x) for x in path.read_text().splitlines()]
        return file_id

    def create(self, input_file_id: str, endpoint: str, metadata: Mapping[str, str]) -> Any:
        from nbplayground.experimentation.batch_ports import BatchInfo

        self._call("create")
        info = BatchInfo(id=f"batch-{next(self._ids)}", status="validating",
                         input_file_id=input_file_id, total=len(self.files[input_file_id]),
                         metadata=dict(metadata))
        self.batches[info.id] = info
        return info

    def retrieve(self, batch_id: str) -> Any:
        self._call("retrieve")
        return self.batches[batch_id]

    def cancel(self, batch_id: str) -> Any:
        import dataclasses

        self._call("cancel")
        self.batches[batch_id] = dataclasses.replace(self.batches[batch_id], status="cancelled")
        return self.batches[batch_id]

    def find(self, input_file_id: str) -> Any:
        self._call("find")
        return next((b for b in self.batches.values() if b.input_file_id == input_file_id), None)

    def finish(self, batch_id: str) -> None:
        import dataclasses

        b = self.batches[batch_id]
        self.files[f"out-{batch_id}"] = self.files[b.input_file_id]
        self.batches[batch_id] = dataclasses.replace(
            b, status="completed", output_file_id=f"out-{batch_id}", completed=b.total)

    def lines(self, file_id: str, endpoint: str) -> Any:
        from nbplayground.domain import ChatResult
        from nbplayground.experimentation.batch_ports import BatchLine

        self._call("lines")
        for line in self.files[file_id]:
            yield BatchLine(line["custom_id"], status_code=200, request_id="req_1",
                            result=ChatResult(text=f"answer to {line['custom_id']}",
                                              finish_reason="stop", prompt_tokens=3,
                                              completion_tokens=2))
