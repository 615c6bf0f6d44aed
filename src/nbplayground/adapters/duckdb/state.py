"""The DuckDB adapter's process-wide state and its one fork hook: resident connections,
per-file locks and the files already migrated.

Every other module of the package is stateless and reaches this state through the functions
here, so a forked child (multiprocessing's default on Linux) has exactly one place that makes
it start afresh.
"""

from __future__ import annotations

import ctypes
import os
import threading

import duckdb

Conn = duckdb.DuckDBPyConnection  # not from sql.py: this module imports nothing of the package

_RESIDENT: dict[str, Conn] = {}
"""Resolved path -> the in-memory connection the file is ATTACHed to (see attach.py)."""

_FILE_LOCKS: dict[str, threading.Lock] = {}
"""One call at a time per file in this process: DuckDB's shared in-process instance races
when one thread closes the last connection while another opens one."""
_FILE_LOCKS_GUARD = threading.Lock()

_MIGRATED: set[tuple[str, int, int]] = set()
"""(path, device, inode) of files this process has migrated: checked once, not every call."""
_MIGRATING = threading.Lock()


# -- per-file locks --

def register_file(key: str) -> None:
    """Give the file `key` (its resolved path) a lock, once per process."""
    with _FILE_LOCKS_GUARD:
        _FILE_LOCKS.setdefault(key, threading.Lock())


def file_lock(key: str) -> threading.Lock:
    """The file's lock; look it up each time, never keep it: a forked child replaces it."""
    return _FILE_LOCKS[key]


# -- resident connections --

def resident(key: str) -> Conn | None:
    return _RESIDENT.get(key)


def keep_resident(key: str, conn: Conn) -> None:
    _RESIDENT[key] = conn


def drop_resident(key: str) -> None:
    _RESIDENT.pop(key, None)


# -- migrated files --

def is_migrated(key: tuple[str, int, int]) -> bool:
    return key in _MIGRATED


def mark_migrated(key: tuple[str, int, int]) -> None:
    _MIGRATED.add(key)


def migration_lock() -> threading.Lock:
    """Held while a file is checked and migrated; looked up each time, like file_lock."""
    return _MIGRATING


def forget_migrated(resolved: str) -> bool:
    """Drop the file at the resolved path `resolved` from the cache; True when it was there."""
    with _MIGRATING:
        mine = {k for k in _MIGRATED if k[0] == resolved}
        _MIGRATED.difference_update(mine)
    return bool(mine)


# -- fork --

def _forked() -> None:
    """In a forked child. A lock another thread of the parent held (a sweep's batch being
    written, a file being migrated) would stay held forever, so every lock is new. The
    parent's DuckDB instances must be neither used nor freed (their threads did not come
    along: closing one there crashes, even at the child's exit), so each one gets a reference
    that is never dropped and is forgotten; the child opens its own."""
    global _FILE_LOCKS_GUARD, _MIGRATING
    _FILE_LOCKS_GUARD = threading.Lock()
    for key in _FILE_LOCKS:
        _FILE_LOCKS[key] = threading.Lock()
    _MIGRATING = threading.Lock()
    for conn in _RESIDENT.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(conn))
    _RESIDENT.clear()


os.register_at_fork(after_in_child=_forked)
