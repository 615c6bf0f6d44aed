"""The team log: the experiment log in PostgreSQL, with the server's row security (psycopg 3)."""

from nbplayground.adapters.postgres.connection import is_url, redact
from nbplayground.adapters.postgres.ledger import PostgresUsageLedger
from nbplayground.adapters.postgres.store import PostgresExperimentRepository

__all__ = ["PostgresExperimentRepository", "PostgresUsageLedger", "is_url", "redact"]
