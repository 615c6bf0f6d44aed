"""Rows of the `batches` table: BatchRecord <-> row, shared by the file log, the team log and
the in-memory fake (custom_ids as JSON text)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nbplayground.adapters.duckdb.frames import Columns, as_utc, names
from nbplayground.domain.batch import BatchRecord

BATCH_COLUMNS: Columns = (
    ("id", "VARCHAR"), ("user_id", "VARCHAR"), ("sweep_id", "VARCHAR"), ("batch_id", "VARCHAR"),
    ("input_file_id", "VARCHAR"), ("output_file_id", "VARCHAR"), ("error_file_id", "VARCHAR"),
    ("endpoint", "VARCHAR"), ("model", "VARCHAR"), ("status", "VARCHAR"), ("total", "INTEGER"),
    ("completed", "INTEGER"), ("failed", "INTEGER"), ("custom_ids", "VARCHAR"),
    ("max_cost", "DOUBLE"), ("created_at", "TIMESTAMPTZ"), ("finished_at", "TIMESTAMPTZ"),
    ("ingested_at", "TIMESTAMPTZ"),
)
BATCH_NAMES = names(BATCH_COLUMNS)
SETTLED = ("failed", "completed", "expired", "cancelled")


def batch_to_row(batch: BatchRecord) -> dict[str, Any]:
    row = batch.model_dump()
    row["custom_ids"] = json.dumps(list(batch.custom_ids))
    return {name: row[name] for name in BATCH_NAMES}


def batch_from_row(row: Mapping[str, Any]) -> BatchRecord:
    data = dict(row)
    data["custom_ids"] = tuple(json.loads(data["custom_ids"] or "[]"))
    for key in ("created_at", "finished_at", "ingested_at"):
        if data[key] is not None:
            data[key] = as_utc(data[key])
    return BatchRecord.model_validate({k: v for k, v in data.items() if k in BATCH_NAMES})
