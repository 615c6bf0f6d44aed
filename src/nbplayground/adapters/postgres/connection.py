"""Connections to the team log: DSNs without their password, a small pool, typed errors.

A transaction over loopback costs a few milliseconds, a new login (SCRAM) several more, so
connections are kept and reused, one per thread at a time; a forked child opens its own.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from nbplayground.errors import (
    ConfigurationError,
    StoreError,
    TeamLogAccessDenied,
    TeamLogUnreachable,
)

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError as e:  # pragma: no cover - the dev extra installs it
    raise ConfigurationError(
        "the team log on PostgreSQL needs psycopg: pip install 'nbplayground[team]'") from e

T = TypeVar("T")
Conn = psycopg.Connection[tuple[Any, ...]]
SCHEMES = ("postgresql://", "postgres://")
_IDLE_MAX = 8


def is_url(db: object) -> bool:
    return isinstance(db, str) and db.startswith(SCHEMES)


def redact(dsn: str) -> str:
    """The DSN as it may be shown: any password replaced by ***."""
    shown = re.sub(r"(://[^:/@?#]*):[^@/?#]*@", r"\1:***@", dsn)
    return re.sub(r"(password=)[^&\s]*", r"\1***", shown, flags=re.IGNORECASE)


def _password(dsn: str) -> str | None:
    with contextlib.suppress(psycopg.ProgrammingError):
        return psycopg.conninfo.conninfo_to_dict(dsn).get("password")  # type: ignore[return-value]
    return None


def scrub(text: str, dsn: str) -> str:
    """`text` (a server's message) with the DSN's password taken out, wherever it appears."""
    secret = _password(dsn)
    return text.replace(secret, "***") if secret else text


class Pool:
    """Idle connections of one DSN in this process, handed to one caller at a time."""

    def __init__(self, dsn: str, *, connect_timeout: float = 10.0) -> None:
        self.dsn = dsn
        self.shown = redact(dsn)
        self.connect_timeout = connect_timeout
        self._idle: list[Conn] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _take(self) -> Conn:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's sockets are not ours
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
        return self.connect()

    def connect(self) -> Conn:
        refused: StoreError | None = None
        try:
            return psycopg.connect(self.dsn, autocommit=True,
                                   connect_timeout=max(1, round(self.connect_timeout)),
                                   options="-c TimeZone=UTC",
                                   application_name="nbplayground")
        except psycopg.OperationalError as e:
            refused = self.login_error(e)
        raise refused  # outside the except: nothing that held the DSN is chained to it

    def _give(self, conn: Conn) -> None:
        with self._lock:
            if (len(self._idle) < _IDLE_MAX and not conn.closed and self._pid == os.getpid()
                    and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE):
                self._idle.append(conn)
                return
        with contextlib.suppress(psycopg.Error):
            conn.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator[Conn]:
        conn = self._take()
        try:
            yield conn
        except psycopg.Error:
            with contextlib.suppress(psycopg.Error):
                conn.close()  # in an unknown state: never back into the pool
            raise
        finally:
            if not conn.closed:
                self._give(conn)  # closes it instead unless idle outside a transaction

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def run(self, work: Callable[[Conn], T], *, write: bool = True, timeout: float = 30.0) -> T:
        """`work` in one transaction (rolled back for a read); a serialization failure or
        deadlock, or a connection the server dropped, is retried until `timeout`."""
        start = time.monotonic()
        attempt = 0
        while True:
            try:
                with self.connection() as conn:
                    tx = conn.transaction(force_rollback=not write)
                    with tx:
                        return work(conn)
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected,
                    psycopg.OperationalError) as e:
                retry = not isinstance(e, psycopg.OperationalError) or conn_lost(e)
                if retry and time.monotonic() - start < timeout:
                    time.sleep(min(0.5, 0.01 * 2**attempt) * random.uniform(0.5, 1.0))
                    attempt += 1
                    continue
                raise self.error(e) from None
            except pg_errors.InsufficientPrivilege as e:
                raise TeamLogAccessDenied(
                    f"the team log {self.shown} refused this: {scrub(str(e), self.dsn)}. "
                    "A user reads and writes only their own rows; ask an admin") from None
            except psycopg.Error as e:
                raise self.error(e) from None

    def login_error(self, e: psycopg.Error) -> StoreError:
        msg = scrub(str(e), self.dsn).strip()
        low = msg.lower()
        if "password authentication failed" in low or "no password supplied" in low \
                or ("role" in low and "does not exist" in low) or "authentication" in low:
            return TeamLogAccessDenied(
                f"the team log {self.shown} refused the login: check the user name and "
                "password in the URL (the owner creates logins with team init). "
                f"The server said: {msg}")
        if "database" in low and "does not exist" in low:
            return TeamLogAccessDenied(
                f"the team log {self.shown} names a database the server does not have; "
                f"create it (createdb) and run team init. The server said: {msg}")
        return TeamLogUnreachable(
            f"cannot reach the team log {self.shown}: check the host and port, that the "
            f"PostgreSQL server runs and that this machine may connect. {msg}")

    def error(self, e: psycopg.Error) -> StoreError:
        if isinstance(e, psycopg.OperationalError) and conn_lost(e):
            return TeamLogUnreachable(
                f"lost the connection to the team log {self.shown}: "
                f"{scrub(str(e), self.dsn)}; run again when the server is back")
        return StoreError(f"the team log {self.shown} failed: {scrub(str(e), self.dsn)}")


def conn_lost(e: psycopg.Error) -> bool:
    low = str(e).lower()
    return ("server closed the connection" in low or ("connection" in low and
            ("lost" in low or "closed" in low or "terminat" in low))) or \
        isinstance(e, pg_errors.AdminShutdown)
