"""Forward-only, numbered schema migrations of the team log on PostgreSQL, applied by its owner.

The tables, columns and meaning are the file log's (adapters/duckdb_migrations.py), in
PostgreSQL types; each table a user writes also gets `seq`, an identity column standing in
for DuckDB's rowid (what orders rows written in the same instant). A migration's number is its
position in MIGRATIONS (1-based), recorded in `_migrations`. Never edit or reorder a released
migration: append a new one. Users never migrate: a log they cannot read is the owner's to set
up, with team init.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.errors import SchemaTooNew, TeamLogNotSetUp

if TYPE_CHECKING:
    import psycopg

Migration = Callable[["psycopg.Connection[tuple[Any, ...]]"], None]
MIGRATIONS: list[Migration] = []
USER_TABLES = ("experiments", "api_requests", "sweeps", "usage", "users", "holds", "attachments",
               "scores", "prompts", "batches", "embeddings", "report_cells")
"""Every table that holds a user's data; `users` is keyed by id, the rest by user_id."""


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def latest() -> int:
    return len(MIGRATIONS)


def applied(conn: psycopg.Connection[tuple[Any, ...]]) -> dict[int, str]:
    """Number -> name of the migrations recorded in this database; reads only."""
    found = conn.execute("SELECT to_regclass('public._migrations')").fetchone()
    if not found or found[0] is None:
        return {}
    return {int(n): str(name) for n, name in
            conn.execute("SELECT number, name FROM _migrations").fetchall()}


def check(conn: psycopg.Connection[tuple[Any, ...]], where: str) -> None:
    """Raise unless the schema is exactly the one this code writes."""
    done = applied(conn)
    newest = max(done, default=0)
    if newest > latest():
        raise SchemaTooNew(
            f"the team log {where} was set up by a newer nbplayground (schema migration "
            f"{newest}, this version knows up to {latest()}); upgrade nbplayground")
    if newest < latest():
        state = "is not set up" if not done else f"has schema {newest} of {latest()}"
        raise TeamLogNotSetUp(
            f"the team log {where} {state}; its owner sets it up (or upgrades it) with "
            "`python -m nbplayground team init OWNER_DSN --user NAME ...` or "
            "nbplayground.team.init(owner_dsn, users=...)")


def migrate(conn: psycopg.Connection[tuple[Any, ...]], where: str) -> list[int]:
    """Apply the missing migrations, all in one transaction; the numbers applied."""
    with conn.transaction():
        # Two owners running team init at once: the second waits, then finds them applied.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('nbplayground migrations'))")
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        done = applied(conn)
        if max(done, default=0) > latest():
            check(conn, where)
        ran = []
        for number, fn in enumerate(MIGRATIONS, start=1):
            if number in done:
                continue
            fn(conn)
            conn.execute("INSERT INTO _migrations (number, name) VALUES (%s, %s)",
                         (number, fn.__name__))
            ran.append(number)
    return ran


@migration
def m001_initial(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    conn.execute("""
        CREATE TABLE experiments (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            sweep_id TEXT,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            base_url TEXT,
            prompt TEXT,
            system TEXT,
            messages TEXT,             -- JSON list of {role, content}
            response TEXT,
            temperature DOUBLE PRECISION,
            max_tokens INTEGER,
            top_p DOUBLE PRECISION,
            frequency_penalty DOUBLE PRECISION,
            presence_penalty DOUBLE PRECISION,
            stop TEXT,                 -- JSON list of strings, NULL when not sent
            seed BIGINT,
            reasoning_effort TEXT,
            repeat INTEGER,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cached_tokens INTEGER,
            token_count INTEGER,
            generation_time_ms DOUBLE PRECISION,
            cost_estimate DOUBLE PRECISION,  -- USD, NULL when unpriced
            usage_estimated BOOLEAN,
            price_as TEXT,
            cost_as DOUBLE PRECISION,
            finish_reason TEXT,
            status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            error TEXT,
            error_type TEXT,
            cache_key TEXT,
            cached BOOLEAN,
            request_body TEXT,         -- JSON, the body exactly as sent
            created_at TIMESTAMPTZ NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY
        )""")
    # Unlike DuckDB's ART indexes (dropped from the file log), B-trees pay here: RLS filters
    # every query on user_id, and the cache is looked up by key.
    conn.execute("CREATE INDEX experiments_user_created ON experiments (user_id, created_at)")
    conn.execute("CREATE INDEX experiments_sweep ON experiments (sweep_id)")
    conn.execute("CREATE INDEX experiments_cache_key ON experiments (cache_key)")
    conn.execute("""
        CREATE TABLE api_requests (
            id TEXT PRIMARY KEY,
            experiment_id TEXT,
            user_id TEXT,
            model TEXT,
            provider TEXT,
            attempt INTEGER,
            status_code INTEGER,
            latency_ms DOUBLE PRECISION,
            request_id TEXT,
            error TEXT,
            retry_after DOUBLE PRECISION,
            created_at TIMESTAMPTZ NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY
        )""")
    conn.execute("CREATE INDEX api_requests_experiment ON api_requests (experiment_id)")
    conn.execute("""
        CREATE TABLE sweeps (
            id TEXT PRIMARY KEY,
            user_id TEXT,
            spec TEXT,                 -- JSON
            status TEXT,
            total INTEGER,
            done INTEGER,
            failed INTEGER,
            cached INTEGER,
            spent DOUBLE PRECISION,
            created_at TIMESTAMPTZ,
            updated_at TIMESTAMPTZ
        )""")
    conn.execute("""
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT,
            subscription_type TEXT,
            token_usage BIGINT,
            api_key_ref TEXT,
            api_key_fingerprint TEXT,
            role TEXT,
            limits TEXT,               -- JSON
            created_at TIMESTAMPTZ
        )""")
    conn.execute("""
        CREATE TABLE usage (
            id TEXT PRIMARY KEY,
            user_id TEXT,
            experiment_id TEXT,
            model TEXT,
            provider TEXT,
            day DATE,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cost DOUBLE PRECISION,
            created_at TIMESTAMPTZ,
            seq BIGINT GENERATED ALWAYS AS IDENTITY
        )""")
    conn.execute("CREATE INDEX usage_user_day ON usage (user_id, day)")


@migration
def m002_budget_holds(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The team log's own table: budget reservations of runs and sweeps in flight, on every
    machine. A hold of a process that died expires (expires_at, pushed on at each settle)."""
    conn.execute("""
        CREATE TABLE holds (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            usd DOUBLE PRECISION NOT NULL,
            tokens BIGINT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at TIMESTAMPTZ NOT NULL
        )""")
    conn.execute("CREATE INDEX holds_user ON holds (user_id)")


@migration
def m003_modern_request_surface(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The file log's migrations 3 and 4: wave 2's request fields and what answers bring back,
    the model that answered, and images' bytes once per hash (attachments, a user's data)."""
    for name, kind in (
            ("api", "TEXT"), ("response_format", "TEXT"), ("tools", "TEXT"),
            ("tool_choice", "TEXT"), ("verbosity", "TEXT"), ("reasoning_summary", "TEXT"),
            ("service_tier", "TEXT"), ("logprobs_requested", "BOOLEAN"),
            ("top_logprobs", "INTEGER"), ("tool_calls", "TEXT"), ("parsed", "TEXT"),
            ("reasoning_tokens", "INTEGER"), ("logprobs", "TEXT"), ("images", "TEXT"),
            ("refusal", "TEXT"), ("response_model", "TEXT")):
        conn.execute(f"ALTER TABLE experiments ADD COLUMN {name} {kind}")
    conn.execute("""
        CREATE TABLE attachments (
            sha256 TEXT NOT NULL,
            user_id TEXT NOT NULL,
            media_type TEXT,
            bytes BYTEA,
            created_at TIMESTAMPTZ,
            PRIMARY KEY (user_id, sha256)
        )""")


@migration
def m004_scores(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The file log's migration 5: scores, one row per (experiment, sweep, scorer), written with
    the cells they score, and a judge's call marked as such. `user_id` (the login that wrote
    the score) is what row security reads; the file log has one user per row of experiments."""
    conn.execute("""
        CREATE TABLE scores (
            experiment_id TEXT NOT NULL,
            sweep_id TEXT,
            scorer TEXT NOT NULL,
            kind TEXT,
            score DOUBLE PRECISION,    -- NULL when the scorer could not score (see reason)
            passed BOOLEAN NOT NULL,
            reason TEXT,
            judge_experiment_id TEXT,
            created_at TIMESTAMPTZ NOT NULL,
            user_id TEXT NOT NULL DEFAULT current_user,
            seq BIGINT GENERATED ALWAYS AS IDENTITY
        )""")
    conn.execute("CREATE INDEX scores_experiment ON scores (experiment_id)")
    conn.execute("CREATE INDEX scores_sweep ON scores (sweep_id)")
    conn.execute("ALTER TABLE experiments ADD COLUMN role TEXT")
    conn.execute("ALTER TABLE experiments ADD COLUMN judged_experiment_id TEXT")


# Later migrations live in their own modules, registered in this order when they are imported.
from nbplayground.adapters.postgres import m005_prompts, m006_batches  # noqa: E402, F401
from nbplayground.adapters.postgres.migrations_reports import m007_report_indexes  # noqa: E402

migration(m007_report_indexes)  # migration 7: the report indexes (registered here, not decorated)
from nbplayground.adapters.postgres import (  # noqa: E402, F401
    m008_embeddings,
    m009_stopped,
    m010_report_cells,
    m011_latency_index,
)
