"""Migration 10 of the team log: what reports recompute per row, worked out as rows are written.

`response_words` holds each answer's words (a generated column: lower-cased, split at anything
but [0-9a-z_], joined by single spaces); `report_cells` the experiments summed per cell
(analytics/cells.py), kept by a trigger in the transaction of every INSERT or COPY into
experiments. Both are filled from the rows already logged when the migration runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.adapters.postgres.migrations import migration
from nbplayground.analytics import cells
from nbplayground.analytics.dialect import DIALECTS, WORDS_OF, q

if TYPE_CHECKING:
    import psycopg

UTC_DAY = "CAST(created_at AT TIME ZONE 'UTC' AS DATE)"
"""A row's day whatever the writing session's time zone (reports read days in UTC)."""
COLUMNS = ("cell", *(k for k in cells.KEYS if k != "day"), "day",
           *cells.measures(DIALECTS["postgres"]))
"""report_cells' columns, in the order of `summed`'s SELECT."""


def summed(rows: str) -> str:
    """The cells of `rows`, each with its key: a hash of the cell's keys as text (a row's text
    tells NULL from ''), unique per user."""
    keys = ", ".join(q(k) for k in cells.KEYS if k != "user_id")
    return (f"SELECT md5(CAST(ROW({keys}) AS TEXT)) AS cell, s.* FROM "
            f"({cells.aggregate(DIALECTS['postgres'], rows, day=UTC_DAY)}) AS s")


def _added(column: str, kind: str) -> str:
    """A cell's `column` after rows of the same cell were written (sums stay NULL over
    nothing, as sum() does)."""
    old, new = f"report_cells.{q(column)}", f"excluded.{q(column)}"
    return f"{old} + {new}" if kind == "count" else f"coalesce({old} + {new}, {old}, {new})"


@migration
def m010_report_cells(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Answers' words and the report cells: whole-log reports read a user's cells (a row per
    sweep, day and request: the repeats summed) rather than every experiment and its answer.
    The trigger runs as the table's owner (users may only read their cells, so none can change
    what an admin's reports of them say); the rows it sums passed experiments' row security."""
    conn.execute(f"ALTER TABLE experiments ADD COLUMN response_words TEXT "
                 f"GENERATED ALWAYS AS ({WORDS_OF}) STORED")
    report_cells(conn)


def report_cells(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """The table, filled from the rows logged so far, and the trigger that keeps it."""
    conn.execute(f"CREATE TABLE report_cells AS {summed('experiments')}")
    conn.execute("ALTER TABLE report_cells ALTER COLUMN user_id SET NOT NULL, "
                 "ALTER COLUMN cell SET NOT NULL, ADD PRIMARY KEY (user_id, cell)")
    conn.execute("CREATE INDEX report_cells_sweep ON report_cells (sweep_id)")
    kinds = {name: m[0] for name, m in cells.measures(DIALECTS["postgres"]).items()}
    names = ", ".join(map(q, COLUMNS))
    updates = ", ".join(f"{q(c)} = {_added(c, kind)}" for c, kind in kinds.items())
    # ordered by key: two writers of one user's cells lock them in the same order
    conn.execute(f"""
        CREATE FUNCTION report_cells_add() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            INSERT INTO report_cells ({names})
            SELECT * FROM ({summed('new_rows')}) AS c ORDER BY user_id, cell
            ON CONFLICT (user_id, cell) DO UPDATE SET {updates};
            RETURN NULL;
        END $$""")
    conn.execute("REVOKE ALL ON FUNCTION report_cells_add() FROM PUBLIC")
    conn.execute("CREATE TRIGGER experiments_report_cells AFTER INSERT ON experiments "
                 "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                 "EXECUTE FUNCTION report_cells_add()")
