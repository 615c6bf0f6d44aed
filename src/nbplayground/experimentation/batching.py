"""Batch sweeps: cells not in the log go to OpenAI's Batch API as JSONL files, one batch each.

Every step is in the log before the next one happens: the `batches` row (with its cells' keys
and its maximum cost, which the budget counts as held) before the upload, the file id before
the batch is created, the batch id as soon as it exists. A restarted kernel, a kill -9 or the
same call made again finds the rows and carries on from where they say; a cell in a batch of
the sweep (or in anyone's live batch) is never sent again by re-running the call.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from nbplayground.domain.batch import BatchRecord
from nbplayground.domain.money import usd
from nbplayground.errors import BudgetExceeded, ProviderError
from nbplayground.experimentation.batch_files import BatchFile, build_files, check_batchable
from nbplayground.experimentation.batch_ports import BatchApi, BatchInfo, BatchLine, BatchLog
from nbplayground.experimentation.batch_results import outcome_of
from nbplayground.experimentation.batch_sweep import BatchSweep
from nbplayground.experimentation.cell import Cell
from nbplayground.experimentation.service import ExperimentService, Outcome
from nbplayground.experimentation.sweep import Sweep
from nbplayground.ids import utcnow

T = TypeVar("T")
CHUNK = 5_000
"""Result lines written per transaction."""


class BatchRunner:
    """Submits, polls, cancels and ingests the batches of a sweep."""

    def __init__(self, service: ExperimentService, api: BatchApi, log: BatchLog, *,
                 sleep: Callable[[float], None] = time.sleep,
                 workdir: Path | None = None, progress: Callable[[int], Any] | None = None
                 ) -> None:
        self.service = service
        self.progress = progress
        self.api = api
        self.log = log
        self.sleep = sleep
        self.workdir = workdir

    # -- submitting --

    def submit(self, sweep: Sweep, *, max_cost: float | None = None, refresh: bool = False,
               again: set[int] | None = None) -> BatchSweep:
        """The sweep's handle: its batches found in the log (resumed), the rest submitted.
        `again`: indexes of cells to send again although a batch of the sweep answered them."""
        cells = sweep.cells
        check_batchable(cells)
        user = cells[0].user_id if cells else ""
        handle = BatchSweep(sweep, self, progress=self.progress)
        keys = {c.cache_key for c in cells}
        known = [] if refresh else self.log.batches(user_id=user)
        handle.batches = [b for b in known if b.sweep_id == sweep.id or (
            b.batch_id is not None and b.live and keys.intersection(b.custom_ids))]
        for b in handle.batches:
            if b.batch_id is None and b.live:
                self._advance(handle, b)  # a submission the last process did not finish
        if not refresh:
            for key, exp in self.service.repository.find_cached(sorted(keys)).items():
                for i in handle.by_key.get(key, ()):
                    if handle.results[i] is None:
                        handle.results[i] = exp.model_copy(update={"cached": True})
        self._answered(handle, again or set())
        taken = {k for b in handle.batches for k in b.custom_ids}
        todo = [i for i, c in enumerate(cells) if handle.results[i] is None
                and (c.cache_key not in taken or (again is not None and i in again))]
        live = {k for b in handle.batches if b.live for k in b.custom_ids}
        todo = [i for i in todo if cells[i].cache_key not in live]
        todo = list({cells[i].cache_key: i for i in todo}.values())  # one line per key
        self._check_cost([cells[i] for i in todo], max_cost)
        self.service.repository.add([], sweep=handle.row("batch"))
        if todo:
            self._submit(handle, [cells[i] for i in todo])
        return handle

    def _answered(self, handle: BatchSweep, again: set[int]) -> None:
        """Cells a read batch of this sweep answered with an error: their rows, from the log
        (pg.retry_failed sends them again; re-running the call does not)."""
        read = {k for b in handle.batches if b.sweep_id == handle.id and b.ingested_at
                for k in b.custom_ids}
        wanted = {c.cache_key for i, c in enumerate(handle.cells)
                  if handle.results[i] is None and c.cache_key in read and i not in again}
        if not wanted:
            return
        for exp in self.service.repository.list(sweep_id=handle.id):  # newest first
            key = exp.cache_key
            if key is not None and key in wanted:
                wanted.discard(key)
                for i in handle.by_key[key]:
                    if i not in again:
                        handle.results[i] = exp

    def _check_cost(self, cells: list[Cell], max_cost: float | None) -> None:
        if max_cost is None or not cells:
            return
        ceiling = self._ceiling(cells)
        if ceiling is None or ceiling > max_cost:
            shown = "unknown (unpriced models)" if ceiling is None else usd(ceiling)
            raise BudgetExceeded(
                f"this batch sweep could cost up to {shown} at batch rates, more than "
                f"max_cost={usd(max_cost)}; lower max_tokens, run fewer cells, or raise "
                "max_cost (nothing was sent)", spent=0.0, limit=max_cost, needed=ceiling or 0.0)

    def _ceiling(self, cells: list[Cell]) -> float | None:
        total = 0.0
        for c in cells:
            one = self.service.max_cost(c)
            if one is None:
                return None
            total += one
        return total

    def _submit(self, handle: BatchSweep, cells: list[Cell]) -> None:
        with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            files = build_files(cells, Path(tmp), stem=handle.id)
            for f in files:
                chosen = [cells[i] for i in f.cells]
                ceiling = self._ceiling(chosen)
                record = BatchRecord(user_id=chosen[0].user_id, sweep_id=handle.id,
                                     endpoint=f.endpoint, model=f.model, total=len(chosen),
                                     custom_ids=tuple(f.custom_ids), max_cost=ceiling)
                gate = self.service.gate
                hold = None if gate is None else gate.reserve(
                    record.user_id, ceiling or 0.0, provider=chosen[0].provider,
                    what=f"this batch ({len(chosen)} requests)")
                try:  # the row itself holds the budget from here on, until it is ingested
                    self.log.save_batch(record)
                finally:
                    if hold is not None:
                        hold.release()
                handle.batches.append(record)
                self._advance(handle, record, f)

    def _advance(self, handle: BatchSweep, record: BatchRecord, built: BatchFile | None = None
                 ) -> BatchRecord:
        """Upload (if not yet) and create (if not yet) the batch of a row, logging each id."""
        if record.input_file_id is None:
            if built is None:
                cells = [handle.cells[handle.by_key[k][0]] for k in record.custom_ids
                         if k in handle.by_key]
                if len(cells) < len(record.custom_ids):
                    return record  # another sweep's batch: its own call finishes it
                with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
                    [built] = build_files(cells, Path(tmp), stem=handle.id)
                    file_id = self._retry(self.api.upload, built.path)
            else:
                file_id = self._retry(self.api.upload, built.path)
            record = handle.replace(record, input_file_id=file_id, status="uploaded")
            self.log.save_batch(record)
        if record.batch_id is None:
            input_id = record.input_file_id
            assert input_id is not None
            found = self._retry(self.api.find, input_id)  # a create whose answer was lost
            info = found or self._retry(self.api.create, input_id, record.endpoint, {
                "nbplayground_batch": record.id, "sweep_id": record.sweep_id or ""})
            record = self._update(handle, record, info)
        return record

    def _update(self, handle: BatchSweep, record: BatchRecord, info: BatchInfo) -> BatchRecord:
        changes: dict[str, Any] = {
            "batch_id": info.id, "status": info.status, "total": info.total or record.total,
            "completed": info.completed, "failed": info.failed,
            "output_file_id": info.output_file_id, "error_file_id": info.error_file_id}
        if info.status in ("completed", "expired", "cancelled", "failed") \
                and record.finished_at is None:
            changes["finished_at"] = utcnow()
        if all(getattr(record, k) == v for k, v in changes.items()):
            return record
        record = handle.replace(record, **changes)
        self.log.save_batch(record)
        return record

    def _retry(self, call: Callable[..., T], *args: Any) -> T:
        """One Files/Batches call through the retry policy (429 and 5xx back off)."""
        policy = self.service.retry
        attempt = 0
        while True:
            try:
                return call(*args)
            except ProviderError as e:
                if not e.retryable or not policy.allows(attempt, rate_limited=e.status_code == 429):
                    raise
                self.sleep(policy.delay(attempt, e.retry_after))
                attempt += 1

    # -- polling, ingesting, cancelling --

    def poll(self, handle: BatchSweep) -> bool:
        """Ask for each unfinished batch's state, ingest what finished; True when all are done."""
        done = True
        for record in list(handle.batches):
            if record.batch_id is not None and record.live:
                batch_id = record.batch_id
                record = self._update(handle, record,
                                      self._retry(self.api.retrieve, batch_id))
            if record.live:
                done = False
            elif record.ingested_at is None:
                self._ingest(handle, record)  # another sweep's batch: its own call reads it
        handle.fill()
        missing = sorted({c.cache_key for c, r in zip(handle.cells, handle.results, strict=True)
                          if r is None})
        if done and missing:  # answered by another sweep's batch, and read by that sweep
            for key, exp in self.service.repository.find_cached(missing).items():
                for i in handle.by_key[key]:
                    handle.results[i] = exp.model_copy(update={"cached": True})
        return done

    def _ingest(self, handle: BatchSweep, record: BatchRecord) -> bool:
        if not all(k in handle.by_key for k in record.custom_ids):
            return False
        seen: set[str] = set()
        batch: list[Outcome] = []
        for line in self._lines(record):
            if line.custom_id in handle.by_key and line.custom_id not in seen:
                seen.add(line.custom_id)
                batch.append(self._outcome(handle, record, line))
                if len(batch) >= CHUNK:
                    self.service.record(batch, sweep=handle.row("batch"))
                    batch = []
        for key in record.custom_ids:  # expired or cancelled before it ran: an error row
            if key not in seen:
                batch.append(self._outcome(handle, record, BatchLine(key)))
        self.service.record(batch, sweep=handle.row("batch"))
        handle.replace(record, ingested_at=utcnow())
        self.log.save_batch(handle.find(record.id))
        return True

    def _lines(self, record: BatchRecord) -> Iterator[BatchLine]:
        """Streamed; a fault midway raises, and the next poll reads the file again (the rows
        already written are skipped by their ids)."""
        for file_id in (record.output_file_id, record.error_file_id):
            if file_id:
                yield from self.api.lines(file_id, record.endpoint)

    def _outcome(self, handle: BatchSweep, record: BatchRecord, line: BatchLine) -> Outcome:
        cell = handle.cells[handle.by_key[line.custom_id][0]]
        outcome = outcome_of(self.service, cell, line, record)
        handle.fresh[line.custom_id] = outcome.experiment
        return outcome

    def cancel(self, handle: BatchSweep) -> None:
        for record in list(handle.batches):
            if not record.live:
                continue
            if record.batch_id is None:  # never created: nothing runs, nothing to read
                handle.replace(record, status="cancelled", finished_at=utcnow(),
                               ingested_at=utcnow())
                self.log.save_batch(handle.find(record.id))
                continue
            batch_id = record.batch_id
            self._update(handle, record, self._retry(self.api.cancel, batch_id))
