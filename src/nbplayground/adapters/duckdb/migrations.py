"""The schema of the DuckDB experiment log: forward-only, numbered migrations and their runner.

A migration's number is its position in MIGRATIONS (1-based); applied ones are recorded in
`_migrations`. Never edit or reorder a released migration: append a new one. Which files this
process has migrated is process-wide state, kept in state.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from nbplayground.adapters.duckdb import state
from nbplayground.errors import SchemaTooNew, StoreError
from nbplayground.ids import utcnow

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

Migration = Callable[["DuckDBPyConnection"], None]

MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next migration; its number is its position, its name its __name__."""
    MIGRATIONS.append(fn)
    return fn


def latest() -> int:
    return len(MIGRATIONS)


def applied(conn: DuckDBPyConnection) -> dict[int, str]:
    """Number -> name of the migrations recorded in this database; reads only."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = "
        "current_database() AND table_schema = 'main' AND table_name = '_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    return {int(n): str(name) for n, name in
            conn.execute("SELECT number, name FROM _migrations").fetchall()}


def migrate(conn: DuckDBPyConnection, *, where: str = "this database") -> list[int]:
    """Apply the missing migrations, each in its own transaction; return the numbers applied.

    A database that records a migration this code does not know is left untouched.
    """
    done = applied(conn)
    newest = max(done, default=0)
    if newest > latest():
        raise SchemaTooNew(
            f"{where} was written by a newer nbplayground (schema migration {newest}, this "
            f"version knows up to {latest()}); upgrade nbplayground to open it. "
            "The file was not modified.")
    ran: list[int] = []
    for number, fn in enumerate(MIGRATIONS, start=1):
        if number in done:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, "
                         "name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
            fn(conn)
            conn.execute("INSERT INTO _migrations VALUES (?, ?, ?)",
                         [number, fn.__name__, utcnow()])
            conn.execute("COMMIT")
        except Exception as e:
            conn.execute("ROLLBACK")
            if isinstance(e, StoreError):
                raise
            raise StoreError(f"migrating {where} failed at migration {number} "
                             f"({fn.__name__}): {e}") from e
        ran.append(number)
    return ran


def ensure_migrated(conn: DuckDBPyConnection, path: Path, *, read_only: bool = False) -> None:
    """Migrate the file at `path` once per process; later calls cost a stat and a set lookup."""
    st = path.stat()
    key = (str(path.resolve()), st.st_dev, st.st_ino)
    if state.is_migrated(key):
        return
    with state.migration_lock():
        if state.is_migrated(key):
            return
        done = applied(conn)
        if read_only and len(done) < latest() and max(done, default=0) <= latest():
            raise StoreError(f"the experiment log {path} is read-only and its schema needs "
                             "upgrading; make it writable (chmod u+w)")
        migrate(conn, where=str(path))
        state.mark_migrated(key)


def forget_migrated(path: Path) -> bool:
    """Drop `path` from the cache (the file was replaced); True when it was there."""
    return state.forget_migrated(str(path.resolve()))


@migration
def m001_initial(conn: DuckDBPyConnection) -> None:
    conn.execute("""
        CREATE TABLE experiments (
            id VARCHAR PRIMARY KEY,
            user_id VARCHAR NOT NULL,
            sweep_id VARCHAR,
            model VARCHAR NOT NULL,
            provider VARCHAR NOT NULL,
            base_url VARCHAR,
            prompt VARCHAR,
            system VARCHAR,
            messages VARCHAR,          -- JSON list of {role, content}
            response VARCHAR,
            temperature DOUBLE,
            max_tokens INTEGER,
            top_p DOUBLE,
            frequency_penalty DOUBLE,
            presence_penalty DOUBLE,
            stop VARCHAR,              -- JSON list of strings, NULL when not sent
            seed BIGINT,
            reasoning_effort VARCHAR,
            repeat INTEGER,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cached_tokens INTEGER,
            token_count INTEGER,
            generation_time_ms DOUBLE,
            cost_estimate DOUBLE,      -- USD, NULL when unpriced
            usage_estimated BOOLEAN,
            price_as VARCHAR,
            cost_as DOUBLE,
            finish_reason VARCHAR,
            status VARCHAR NOT NULL CHECK (status IN ('ok', 'error')),
            error VARCHAR,
            error_type VARCHAR,
            cache_key VARCHAR,
            cached BOOLEAN,
            request_body VARCHAR,      -- JSON, the body exactly as sent
            created_at TIMESTAMPTZ NOT NULL
        )""")
    conn.execute("CREATE INDEX experiments_user_created ON experiments (user_id, created_at)")
    conn.execute("CREATE INDEX experiments_sweep ON experiments (sweep_id)")
    conn.execute("CREATE INDEX experiments_cache_key ON experiments (cache_key)")
    conn.execute("""
        CREATE TABLE api_requests (
            id VARCHAR PRIMARY KEY,
            experiment_id VARCHAR,
            user_id VARCHAR,
            model VARCHAR,
            provider VARCHAR,
            attempt INTEGER,
            status_code INTEGER,
            latency_ms DOUBLE,
            request_id VARCHAR,
            error VARCHAR,
            retry_after DOUBLE,
            created_at TIMESTAMPTZ NOT NULL
        )""")
    conn.execute("""
        CREATE TABLE sweeps (
            id VARCHAR PRIMARY KEY,
            user_id VARCHAR,
            spec VARCHAR,              -- JSON
            status VARCHAR,
            total INTEGER,
            done INTEGER,
            failed INTEGER,
            cached INTEGER,
            spent DOUBLE,
            created_at TIMESTAMPTZ,
            updated_at TIMESTAMPTZ
        )""")
    conn.execute("""
        CREATE TABLE users (
            id VARCHAR PRIMARY KEY,
            email VARCHAR,
            subscription_type VARCHAR,
            token_usage BIGINT,
            api_key_ref VARCHAR,
            api_key_fingerprint VARCHAR,
            role VARCHAR,
            limits VARCHAR,            -- JSON
            created_at TIMESTAMPTZ
        )""")
    conn.execute("""
        CREATE TABLE usage (
            id VARCHAR PRIMARY KEY,
            user_id VARCHAR,
            experiment_id VARCHAR,
            model VARCHAR,
            provider VARCHAR,
            day DATE,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cost DOUBLE,
            created_at TIMESTAMPTZ
        )""")


@migration
def m002_no_secondary_indexes(conn: DuckDBPyConnection) -> None:
    """DuckDB's ART indexes pay only for constraints. On a 1M-row log these three made reading
    one sweep 6x slower than a scan (62 vs 11 ms), and every batch of a sweep paid for them in
    its inserts and in the checkpoint at DETACH; the primary keys stay (INSERT OR IGNORE)."""
    for name in ("experiments_user_created", "experiments_sweep", "experiments_cache_key"):
        conn.execute(f"DROP INDEX IF EXISTS {name}")


@migration
def m003_modern_request_surface(conn: DuckDBPyConnection) -> None:
    """Wave 2's request fields (API, structured output, tools, reasoning, tiers, logprobs) and
    what their answers bring back; images by hash, their bytes once per hash in attachments."""
    for name, kind in (
            ("api", "VARCHAR"), ("response_format", "VARCHAR"), ("tools", "VARCHAR"),
            ("tool_choice", "VARCHAR"), ("verbosity", "VARCHAR"),
            ("reasoning_summary", "VARCHAR"), ("service_tier", "VARCHAR"),
            ("logprobs_requested", "BOOLEAN"), ("top_logprobs", "INTEGER"),
            ("tool_calls", "VARCHAR"), ("parsed", "VARCHAR"), ("reasoning_tokens", "INTEGER"),
            ("logprobs", "VARCHAR"), ("images", "VARCHAR"), ("refusal", "VARCHAR")):
        conn.execute(f"ALTER TABLE experiments ADD COLUMN {name} {kind}")
    conn.execute("""
        CREATE TABLE attachments (
            sha256 VARCHAR PRIMARY KEY,
            user_id VARCHAR,
            media_type VARCHAR,
            bytes BLOB,
            created_at TIMESTAMPTZ
        )""")


@migration
def m004_response_model(conn: DuckDBPyConnection) -> None:
    """The model the response says answered, next to the one requested: a compatible server
    (llama.cpp, Ollama) answers gpt-4o-mini requests with its own file, and runs are priced by
    what answered. Rows logged before stay NULL (nobody recorded it)."""
    conn.execute("ALTER TABLE experiments ADD COLUMN response_model VARCHAR")


@migration
def m005_scores(conn: DuckDBPyConnection) -> None:
    """Scores: one row per (experiment, sweep, scorer), written with the cells they score; a
    judge's own call is an experiment with role 'judge' and the experiment it judged."""
    conn.execute("""
        CREATE TABLE scores (
            experiment_id VARCHAR NOT NULL,
            sweep_id VARCHAR,
            scorer VARCHAR NOT NULL,
            kind VARCHAR,
            score DOUBLE,              -- NULL when the scorer could not score (see reason)
            passed BOOLEAN NOT NULL,
            reason VARCHAR,
            judge_experiment_id VARCHAR,
            created_at TIMESTAMPTZ NOT NULL
        )""")
    conn.execute("ALTER TABLE experiments ADD COLUMN role VARCHAR")
    conn.execute("ALTER TABLE experiments ADD COLUMN judged_experiment_id VARCHAR")


# Later migrations live in their own modules, registered in this order when they are imported.
from nbplayground.adapters.duckdb import (  # noqa: E402, F401
    m006_prompts,
    m007_batches,
    m008_embeddings,
    m009_stopped,
    m010_report_cells,
)
