"""Identifiers and the clock, in one place so tests can reason about them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    """A fresh UUID4 as text: ids are strings everywhere (DuckDB, pandas, widgets)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)
