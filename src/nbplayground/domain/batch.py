"""A Batch API job as the log records it: its files, its state at OpenAI, and the cells it holds."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nbplayground.ids import new_id, utcnow

MAX_LINES = 50_000
"""OpenAI's limit on requests in one batch input file."""
MAX_BYTES = 200 * 1024 * 1024
"""OpenAI's limit on the size of one batch input file (200 MB)."""
COMPLETION_WINDOW: Literal["24h"] = "24h"

BatchStatus = Literal["pending", "uploaded", "validating", "failed", "in_progress", "finalizing",
                      "completed", "expired", "cancelling", "cancelled"]
"""OpenAI's batch statuses (openai.types.Batch.status), and ours before it exists there:
`pending` (the row is written, the file not yet uploaded), `uploaded` (the file is there, the
batch not yet created)."""

FINISHED: frozenset[str] = frozenset({"failed", "completed", "expired", "cancelled"})
"""Statuses after which the batch sends nothing more: its results can be read."""


class BatchRecord(BaseModel):
    """One row of the `batches` table. Written before the upload, updated at each step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    """Ours: the row exists before OpenAI has a batch id for it."""
    user_id: str
    sweep_id: str | None = None
    batch_id: str | None = None
    """OpenAI's batch id (batch_...), once created."""
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    endpoint: str = "/v1/chat/completions"
    model: str = ""
    status: BatchStatus = "pending"
    total: int = 0
    completed: int = 0
    failed: int = 0
    custom_ids: tuple[str, ...] = ()
    """The cache keys of the cells in the file, in its order (custom_id of each line)."""
    max_cost: float | None = None
    """The most the batch can cost (batch rates, every answer at max_tokens): what a budget
    holds for it until its results are booked."""
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    ingested_at: datetime | None = None
    """When its results were written to the log (None: still to be read)."""

    @property
    def live(self) -> bool:
        """Its cells are still to be answered by it: never submit them again meanwhile."""
        return self.status not in FINISHED

    @property
    def settled(self) -> bool:
        """Finished and its results in the log: nothing more to do for it."""
        return self.status in FINISHED and self.ingested_at is not None
