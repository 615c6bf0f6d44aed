"""Shared fixtures: nothing reads the real environment, a real user directory or the network."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.support.openai_stub import OpenAIStub

TEST_KEY = "sk-test-CANARY0123456789abcdef"

# Hypothesis times every example (200 ms deadline, "too slow" health checks): wall-clock
# assertions that fail on a loaded machine. Its examples are judged by what they do only.
settings.register_profile("nbplayground", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("nbplayground")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir for the session (never the user's): the WordNet copy is made once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache_dir: Path) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NBPLAYGROUND_DB", str(tmp_path / "default.duckdb"))
    monkeypatch.setenv("NBPLAYGROUND_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("NBPLAYGROUND_CACHE_DIR", str(cache_dir))
    # No plan, as for a new user: no limits. Tests of plans and budgets set their own.
    monkeypatch.delenv("NBPLAYGROUND_PLAN", raising=False)
    monkeypatch.delenv("NBPLAYGROUND_ADMINS", raising=False)
    # Never the developer's real OS keyring (read once, when keyring first picks a backend).
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(api_key=TEST_KEY) as server:
        yield server
        assert server.errors == []


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "experiments.duckdb"


@pytest.fixture
def make_pg(db: Path) -> Iterator[Any]:
    """Playground factory whose instances are closed after the test (no dangling sockets)."""
    from nbplayground import Playground

    made: list[Playground] = []

    def make(**kwargs: Any) -> Playground:
        kwargs.setdefault("db", db)
        pg = Playground(**kwargs)
        made.append(pg)
        # The warm-up opens the log once in the background: a test that reads the file with
        # its own duckdb.connect next must not meet that moment (a handle conflict).
        assert pg._w.warmed()
        return pg

    yield make
    for pg in made:
        pg.close()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Any]:
    """A private PostgreSQL cluster for the whole run (tests/support/postgres.py)."""
    from tests.support.postgres import bindir, private_cluster

    if bindir() is None:
        pytest.skip("PostgreSQL is not installed: run scripts/bootstrap.sh as root "
                    "(apt-get install postgresql) for the team-log tests")
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture
def team_db(postgres_cluster: Any, request: pytest.FixtureRequest) -> str:
    """The owner DSN of a fresh, empty database in the private cluster."""
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40]
    return str(postgres_cluster.create_database(f"t{next(_DATABASES)}_{name}"))


_DATABASES = itertools.count(1)
