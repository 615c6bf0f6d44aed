"""Setting a team log up, as its owner: schema, logins, grants, row security and policies.

Everything is idempotent (run it again to add users or change passwords). The authorization
is the server's: every table holding a user's data has FORCE ROW LEVEL SECURITY and a policy
keyed on current_user; members of nbplayground_admin read every row and set limits. Privileges
go to each login directly, never through a shared group role, so a user has no role to
SET ROLE into but their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from psycopg import sql

from nbplayground.adapters.postgres.connection import Conn, Pool
from nbplayground.adapters.postgres.migrations import USER_TABLES, migrate
from nbplayground.errors import InvalidInput
from nbplayground.ids import utcnow

ADMIN_ROLE = "nbplayground_admin"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$")
_RESERVED = {ADMIN_ROLE, "public", "postgres", "current_user", "session_user", "none"}
_OWN_KEY = {t: ("id" if t == "users" else "user_id") for t in USER_TABLES}
_WRITES = {"experiments": "SELECT, INSERT", "api_requests": "SELECT, INSERT",
           "usage": "SELECT, INSERT", "sweeps": "SELECT, INSERT, UPDATE",
           "holds": "SELECT, INSERT, UPDATE, DELETE", "attachments": "SELECT, INSERT",
           "scores": "SELECT, INSERT, DELETE", "prompts": "SELECT, INSERT",
           "batches": "SELECT, INSERT, UPDATE", "embeddings": "SELECT, INSERT",
           "report_cells": "SELECT"}
_USER_INSERT = "id, email, token_usage, api_key_ref, api_key_fingerprint, created_at"
_USER_UPDATE = "email, token_usage, api_key_ref, api_key_fingerprint"
"""What a login may write in its own users row: never its plan, limits or role."""


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name.lower() in _RESERVED \
            or name.lower().startswith("pg_"):
        raise InvalidInput(f"a team log user name is a database login: letters, digits and "
                           f"_ . @ - (at most 63, not starting with pg_), not {name!r}")
    return name


def init(owner_dsn: str, users: Mapping[str, str | None], admins: Mapping[str, str | None],
         *, plan: str = "free") -> dict[str, Any]:
    """Set the database of `owner_dsn` up as a team log; what was done, without passwords."""
    logins = {check_name(n): pw for n, pw in {**users, **admins}.items()}
    for pw in logins.values():
        if pw is not None and (not isinstance(pw, str) or not pw or "\x00" in pw):
            raise InvalidInput("a password must be a non-empty string, or None to leave the "
                               "login's authentication to the DBA")
    pool = Pool(owner_dsn)
    try:
        with pool.connection() as conn:
            ran = migrate(conn, pool.shown)
            with conn.transaction():
                conn.execute(sql.SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(
                    sql.Literal("nbplayground team init")))
                created = _roles(conn, logins, set(admins))
                _secure(conn, list(logins))
                _user_rows(conn, logins, set(admins), plan)
    finally:
        pool.close()
    return {"database": pool.shown, "migrations_applied": ran, "users": sorted(users),
            "admins": sorted(admins), "logins_created": created}


def _roles(conn: Conn, logins: Mapping[str, str | None], admins: set[str]) -> list[str]:
    created = []
    if not _exists(conn, ADMIN_ROLE):
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(ADMIN_ROLE)))
    for name, pw in logins.items():
        verb = "ALTER" if _exists(conn, name) else "CREATE"
        if verb == "CREATE":
            created.append(name)
        stmt = sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
                       ).format(sql.Identifier(name))
        if pw is not None:
            stmt = sql.SQL("{} PASSWORD {}").format(stmt, sql.Literal(pw))
        conn.execute(stmt)
        if name in admins:
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(ADMIN_ROLE),
                                                          sql.Identifier(name)))
    (superuser,) = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                                ).fetchone() or (False,)
    if not superuser:  # FORCE applies to the owner too: it reads the log as an admin
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(ADMIN_ROLE)))
    return created


def _exists(conn: Conn, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() \
        is not None


def _secure(conn: Conn, logins: list[str]) -> None:
    ident = sql.Identifier
    (db,) = conn.execute("SELECT current_database()").fetchone() or ("",)
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    conn.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC")
    conn.execute(sql.SQL("GRANT SELECT ON _migrations TO {}").format(ident(ADMIN_ROLE)))
    conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON users TO {}").format(
        ident(ADMIN_ROLE)))
    for name in logins:
        who = ident(name)
        conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
            ident(str(db)), who))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who))
        conn.execute(sql.SQL("GRANT SELECT ON _migrations TO {}").format(who))
        for table, privileges in _WRITES.items():
            conn.execute(sql.SQL(f"GRANT {privileges} ON {{}} TO {{}}").format(
                ident(table), who))
        conn.execute(sql.SQL(f"GRANT SELECT, INSERT ({_USER_INSERT}), UPDATE ({_USER_UPDATE}) "
                             "ON users TO {}").format(who))
        # A judge's call is marked as one when its verdict is logged; nothing else changes.
        conn.execute(sql.SQL("GRANT UPDATE (role, judged_experiment_id) ON experiments TO {}"
                             ).format(who))
    for table, key in _OWN_KEY.items():
        t = ident(table)
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(t))
        conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(t))
        for policy in ("own_rows", "admin_reads", "admin_writes", "summed_by_owner"):
            conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(ident(policy), t))
        conn.execute(sql.SQL("CREATE POLICY own_rows ON {} TO PUBLIC USING ({} = current_user) "
                             "WITH CHECK ({} = current_user)").format(t, ident(key), ident(key)))
        conn.execute(sql.SQL("CREATE POLICY admin_reads ON {} FOR SELECT TO {} USING (true)"
                             ).format(t, ident(ADMIN_ROLE)))
        if table == "scores":  # a score of one's own experiments only
            conn.execute(sql.SQL("DROP POLICY IF EXISTS own_experiment ON {}").format(t))
            conn.execute(sql.SQL(
                "CREATE POLICY own_experiment ON {} AS RESTRICTIVE FOR INSERT TO PUBLIC "
                "WITH CHECK (EXISTS (SELECT 1 FROM experiments e WHERE e.id = experiment_id "
                "AND e.user_id = current_user))").format(t))
        if table == "users":
            conn.execute(sql.SQL("CREATE POLICY admin_writes ON {} FOR ALL TO {} USING (true) "
                                 "WITH CHECK (true)").format(t, ident(ADMIN_ROLE)))
        if table == "report_cells":  # written by the owner's trigger only (migration 10)
            conn.execute(sql.SQL("CREATE POLICY summed_by_owner ON {} FOR ALL TO CURRENT_USER "
                                 "USING (true) WITH CHECK (true)").format(t))


def _user_rows(conn: Conn, logins: Mapping[str, str | None], admins: set[str],
               plan: str) -> None:
    """Each login's users row, on `plan` unless an admin already set one."""
    for name in logins:
        conn.execute("""
            INSERT INTO users (id, subscription_type, token_usage, role, created_at)
            VALUES (%s, %s, 0, %s, %s)
            ON CONFLICT (id) DO UPDATE SET role = excluded.role,
                subscription_type = coalesce(users.subscription_type, excluded.subscription_type)
            """, (name, plan, "admin" if name in admins else "user", utcnow()))
