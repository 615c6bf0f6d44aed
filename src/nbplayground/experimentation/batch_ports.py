"""Ports of batch sweeps: the provider's Files and Batches API, and the log's `batches` table."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from nbplayground.domain import ChatResult
from nbplayground.domain.batch import BatchRecord
from nbplayground.errors import ProviderError


@dataclass(frozen=True)
class BatchInfo:
    """What the provider says of a batch (openai.types.Batch, the fields a sweep reads)."""

    id: str
    status: str
    input_file_id: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchLine:
    """One line of an output or error file, read: the answer, or the line's own error."""

    custom_id: str
    result: ChatResult | None = None
    error: ProviderError | None = None
    status_code: int | None = None
    request_id: str | None = None


class BatchApi(Protocol):
    """Files with purpose "batch" and the Batches API; each call one attempt (the runner owns
    the retries). Raises a ProviderError subclass on failure."""

    def upload(self, path: Path) -> str:
        """Upload a JSONL file (purpose "batch"); its file id."""
        ...

    def create(self, input_file_id: str, endpoint: str, metadata: Mapping[str, str]
               ) -> BatchInfo:
        """A batch of that file (completion_window "24h")."""
        ...

    def retrieve(self, batch_id: str) -> BatchInfo: ...

    def cancel(self, batch_id: str) -> BatchInfo: ...

    def find(self, input_file_id: str) -> BatchInfo | None:
        """A batch already made of that file (listed), for a create whose answer was lost."""
        ...

    def lines(self, file_id: str, endpoint: str) -> Iterator[BatchLine]:
        """An output or error file's lines, read as that endpoint's answers."""
        ...


class BatchLog(Protocol):
    """The log's `batches` table (the experiment repository implements it)."""

    def save_batch(self, batch: BatchRecord) -> None:
        """Insert or replace the row of batch.id; committed before it returns."""
        ...

    def batches(self, *, user_id: str | None = None, sweep_id: str | None = None
                ) -> list[BatchRecord]:
        """Oldest first."""
        ...
