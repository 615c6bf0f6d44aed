"""DuckDBExperimentRepository on real files: migrations, bad files, locks, batches."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.adapters.duckdb import DuckDBExperimentRepository, rows
from nbplayground.adapters.duckdb.migrations import MIGRATIONS, migrate
from nbplayground.domain import Experiment, User
from nbplayground.errors import InvalidInput, SchemaTooNew, StoreError, StoreLocked
from tests.factories import make_experiment, make_request
from tests.fakes import FakeClock

TABLES = {"_migrations", "experiments", "api_requests", "sweeps", "users", "usage", "attachments",
          "scores", "prompts", "batches", "embeddings"}
VIEWS = {"report_cells"}

HOLDER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
print("held", flush=True)
sys.stdin.readline()  # until the test says "let go" (or the holder is killed)
conn.close()
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "log.duckdb"


@pytest.fixture
def repo(path: Path) -> DuckDBExperimentRepository:
    return DuckDBExperimentRepository(path)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(path: Path) -> set[str]:
    with duckdb.connect(str(path)) as conn:
        return {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables")
                .fetchall()}


def test_a_blank_file_gets_every_migration_recorded(repo: DuckDBExperimentRepository,
                                                    path: Path) -> None:
    assert repo.list() == []
    assert tables(path) == TABLES | VIEWS
    with duckdb.connect(str(path)) as conn:
        recorded = conn.execute("SELECT number, name, applied_at FROM _migrations").fetchall()
        assert [(n, name) for n, name, _ in recorded] == [
            (i, fn.__name__) for i, fn in enumerate(MIGRATIONS, start=1)]
        assert recorded[:2] == [(1, "m001_initial", recorded[0][2]),
                                (2, "m002_no_secondary_indexes", recorded[1][2])]
        assert recorded[0][2] is not None
        assert migrate(conn) == []  # already current: nothing applied twice


def test_only_the_primary_keys_are_indexed(repo: DuckDBExperimentRepository, path: Path) -> None:
    """Secondary ART indexes slowed every batch and made reading a sweep slower than a scan."""
    repo.add([make_experiment()])
    with duckdb.connect(str(path)) as conn:
        assert conn.execute("SELECT index_name FROM duckdb_indexes()").fetchall() == []
        keyed = conn.execute("SELECT table_name FROM duckdb_constraints() "
                             "WHERE constraint_type = 'PRIMARY KEY'").fetchall()
    # scores has no key of its own: scoring again replaces a cell's scores by (experiment, scorer)
    assert {t for (t,) in keyed} == TABLES - {"scores"}


def test_a_file_from_a_newer_version_is_refused_untouched(path: Path) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE _migrations (number INTEGER, name VARCHAR, "
                     "applied_at TIMESTAMPTZ)")
        for i, fn in enumerate([*MIGRATIONS, migrate], start=1):
            name = fn.__name__ if fn is not migrate else "m999_from_the_future"
            conn.execute("INSERT INTO _migrations VALUES (?, ?, now())", [i, name])
    before = digest(path)
    newest = len(MIGRATIONS) + 1
    with pytest.raises(SchemaTooNew, match=rf"newer nbplayground .*migration {newest}.* knows "
                                           rf"up to {newest - 1}"):
        DuckDBExperimentRepository(path).list()
    with pytest.raises(SchemaTooNew):
        DuckDBExperimentRepository(path).add([make_experiment()])
    assert digest(path) == before
    assert tables(path) == {"_migrations"}


@pytest.mark.parametrize("content", [b"hello, I am a CSV\n1,2,3\n", b"\x00" * 4096])
def test_a_file_that_is_not_duckdb_is_refused_untouched(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    repo = DuckDBExperimentRepository(path)
    with pytest.raises(StoreError, match="is not a DuckDB database"):
        repo.add([make_experiment()])
    with pytest.raises(StoreError, match="is not a DuckDB database"):
        repo.history()
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_zero_byte_file_becomes_a_log(path: Path, repo: DuckDBExperimentRepository) -> None:
    path.touch()
    e = make_experiment()
    repo.add([e])
    assert repo.get(e.id) == e


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    repo = DuckDBExperimentRepository(tmp_path / "nowhere" / "log.duckdb")
    with pytest.raises(StoreError, match=r"folder .*nowhere does not exist"):
        repo.list()
    assert not (tmp_path / "nowhere").exists()


def test_memory_is_not_a_log() -> None:
    with pytest.raises(InvalidInput, match="file path"):
        DuckDBExperimentRepository(":memory:")


@pytest.fixture
def read_only(path: Path, repo: DuckDBExperimentRepository) -> Iterator[Experiment]:
    e = make_experiment()
    repo.add([e])
    path.chmod(0o444)
    yield e
    path.chmod(0o644)


def test_a_read_only_file_refuses_writes_but_reads(read_only: Experiment, path: Path) -> None:
    before = digest(path)
    repo = DuckDBExperimentRepository(path)
    with pytest.raises(StoreError, match="is read-only"):
        repo.add([make_experiment()])
    assert repo.get(read_only.id) == read_only
    assert list(repo.history()["id"]) == [read_only.id]
    assert digest(path) == before


def test_the_file_is_not_held_open_between_calls(repo: DuckDBExperimentRepository,
                                                 path: Path) -> None:
    repo.add([make_experiment()])
    # A separate process is the real check: within one process DuckDB shares the instance.
    other = subprocess.run([sys.executable, "-c", HOLDER, str(path), "0"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert other.returncode == 0, other.stderr
    with duckdb.connect(str(path)) as conn:
        assert conn.execute("SELECT count(*) FROM experiments").fetchone() == (1,)
    repo.add([make_experiment()])
    assert len(repo.list()) == 2


@pytest.fixture
def holder(path: Path) -> Iterator[subprocess.Popen[str]]:
    DuckDBExperimentRepository(path).list()  # create and migrate the file first
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.communicate(timeout=30)


def test_a_call_waits_for_another_process_to_let_go(
        holder: subprocess.Popen[str], path: Path) -> None:
    waiting = threading.Event()

    def sleep(seconds: float) -> None:  # called only when the file was found locked
        waiting.set()
        time.sleep(seconds)

    repo = DuckDBExperimentRepository(path, lock_timeout=30, sleep=sleep)
    e = make_experiment()
    adding = threading.Thread(target=repo.add, args=([e], [make_request(e)]))
    adding.start()
    assert waiting.wait(30), "the write never met the other process's lock"
    assert adding.is_alive(), "written while another process held the file"
    assert holder.stdin is not None
    holder.stdin.write("let go\n")
    holder.stdin.flush()
    adding.join(timeout=30)
    assert not adding.is_alive()
    assert repo.get(e.id) == e


def test_a_lock_held_too_long_raises_store_locked(
        holder: subprocess.Popen[str], path: Path) -> None:
    clock = FakeClock()
    repo = DuckDBExperimentRepository(path, lock_timeout=0.5, clock=clock, sleep=clock.sleep)
    with pytest.raises(StoreLocked, match=rf"{path.name}.*PID {holder.pid}\b.*waited 0.5 s"):
        repo.add([make_experiment()])
    # It tried again and again, backing off, for lock_timeout of its own clock...
    assert len(clock.sleeps) > 1 and sum(clock.sleeps) == pytest.approx(0.5)
    assert holder.poll() is None  # ...and gave up while the file was still held


def test_a_failing_batch_writes_nothing(repo: DuckDBExperimentRepository) -> None:
    good = make_experiment()
    bad = Experiment.model_construct(**{**make_experiment().__dict__, "status": "maybe"})
    with pytest.raises(StoreError, match="status"):
        repo.add([good, bad], [make_request(good)])
    assert repo.list() == []
    assert repo.requests().empty


def test_ten_thousand_experiments_in_one_batch(repo: DuckDBExperimentRepository) -> None:
    batch = [make_experiment(prompt=f"prompt {i}", repeat=i % 3) for i in range(10_000)]
    repo.add(batch, [make_request(e) for e in batch])  # its speed: bench/logging_overhead.py
    df = repo.history()
    assert len(df) == 10_000
    assert df["id"].iloc[0] == batch[-1].id
    assert repo.query("SELECT count(*) AS n FROM api_requests")["n"].iloc[0] == 10_000


def test_query_reads_and_refuses_writes(repo: DuckDBExperimentRepository) -> None:
    repo.add([make_experiment(model="gpt-4o-mini"), make_experiment(model="gpt-4.1-nano")])
    df = repo.query("SELECT model, count(*) AS n FROM experiments WHERE model = ? GROUP BY model",
                    ["gpt-4.1-nano"])
    assert df.to_dict("records") == [{"model": "gpt-4.1-nano", "n": 1}]
    for sql in ("DELETE FROM experiments", "DROP TABLE experiments",
                "SELECT 1; DELETE FROM experiments"):
        with pytest.raises(InvalidInput, match="one SELECT"):
            repo.query(sql)
    with pytest.raises(InvalidInput, match="failed"):
        repo.query("SELECT no_such_column FROM experiments")
    with pytest.raises(InvalidInput, match="parse"):
        repo.query("SELEKT 1")
    assert len(repo.list()) == 2


def test_users_round_trip_and_keep_their_limits(repo: DuckDBExperimentRepository) -> None:
    alice = User(id="alice", email="a@example.com", subscription_type="pro", token_usage=12,
                 api_key_ref="env:OPENAI_API_KEY", api_key_fingerprint="sk-…abcd", role="admin")
    repo.upsert_user(alice, limits={"budget_usd": 5.0, "models": ["gpt-4o-mini"]})
    repo.upsert_user(alice.model_copy(update={"token_usage": 99}))
    assert repo.get_user("alice") == alice.model_copy(update={"token_usage": 99})
    assert repo.user_limits("alice") == {"budget_usd": 5.0, "models": ["gpt-4o-mini"]}
    assert repo.get_user("bob") is None
    assert repo.user_limits("bob") is None


def test_usage_rows_append_once_with_their_calls(repo: DuckDBExperimentRepository) -> None:
    e = make_experiment()
    rows = [{"id": "u1", "user_id": "alice", "experiment_id": e.id, "model": e.model,
             "provider": "openai", "prompt_tokens": 27, "completion_tokens": 19, "cost": 1.5e-5,
             "created_at": e.timestamp}]
    repo.add([e], usage=rows)
    repo.add([e], usage=rows)
    repo.add([], usage=[{"user_id": "bob", "model": "gpt-4.1-nano", "prompt_tokens": 1}])
    df = repo.query("SELECT * FROM usage ORDER BY user_id")
    assert list(df["user_id"]) == ["alice", "bob"]
    assert df["day"].iloc[0].date() == e.timestamp.date() == date(2025, 3, 14)
    assert len(repo.list()) == 1
    with pytest.raises(InvalidInput, match="tokens_used"):
        repo.add([], usage=[{"tokens_used": 3}])


def test_a_call_and_its_spend_commit_together_or_not_at_all(
        repo: DuckDBExperimentRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    real = rows.usage_frame

    def unwritable(usage: Any) -> Any:  # a value DuckDB refuses inside the transaction
        df = real(usage).astype({"prompt_tokens": object})
        df.loc[0, "prompt_tokens"] = "many"
        return df

    monkeypatch.setattr(rows, "usage_frame", unwritable)
    e = make_experiment()
    usage = [{"id": e.id, "user_id": "alice", "experiment_id": e.id, "model": e.model,
              "provider": "openai", "prompt_tokens": 3, "completion_tokens": 1}]
    with pytest.raises(StoreError):
        repo.add([e], [make_request(e)], usage=usage, sweep={"id": "s1", "status": "done"})
    assert repo.get(e.id) is None
    assert repo.requests().empty
    assert repo.sweep("s1") is None


@pytest.mark.parametrize("same_inode", [False, True])
def test_a_replaced_file_is_migrated_again(repo: DuckDBExperimentRepository, path: Path,
                                           tmp_path: Path, same_inode: bool) -> None:
    repo.add([make_experiment()])
    assert not Path(f"{path}.wal").exists()
    if same_inode:  # what the per-process "already migrated" cache cannot see
        blank = tmp_path / "blank.duckdb"
        duckdb.connect(str(blank)).close()
        inode = path.stat().st_ino
        shutil.copyfile(blank, path)
        assert path.stat().st_ino == inode
    else:
        path.unlink()
    e = make_experiment()
    repo.add([e])
    assert [x.id for x in repo.list()] == [e.id]


def test_a_dropped_table_is_an_error_not_a_loop(repo: DuckDBExperimentRepository,
                                                path: Path) -> None:
    repo.list()
    with duckdb.connect(str(path)) as conn:
        conn.execute("DROP TABLE experiments")
    with pytest.raises(StoreError, match="experiments does not exist"):
        repo.list()


WRITER = """
import sys
import threading
from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from tests.factories import make_experiment, make_request
repo = DuckDBExperimentRepository(sys.argv[1])
for _ in range(8):
    batch = [make_experiment(user_id=sys.argv[2]) for _ in range(10)]
    repo.add(batch, [make_request(e) for e in batch])
    repo.history(limit=5)
"""


def test_two_processes_writing_one_log_keep_every_row(repo: DuckDBExperimentRepository,
                                                      path: Path) -> None:
    repo.list()
    root = Path(__file__).parents[2]
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], cwd=root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("nb1", "nb2")]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    counts = repo.query("SELECT user_id, count(*) AS n FROM experiments GROUP BY ALL ORDER BY 1")
    assert counts.to_dict("records") == [{"user_id": "nb1", "n": 80}, {"user_id": "nb2", "n": 80}]
    assert len(repo.requests()) == 160


def test_threads_adding_overlapping_batches(repo: DuckDBExperimentRepository) -> None:
    shared = [make_experiment() for _ in range(20)]
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for _ in range(10):
                repo.add([make_experiment(user_id=name), *shared])
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(repo.list()) == 20 + 4 * 10


def test_a_connection_the_user_holds_in_this_process_is_shared_not_fought(
        repo: DuckDBExperimentRepository) -> None:
    repo.add([make_experiment()])
    with duckdb.connect(str(repo.path)) as mine:  # e.g. a notebook cell left it open
        e = make_experiment()
        repo.add([e])  # through the user's instance: no lock error, no wait
        assert mine.execute("select count(*) from experiments").fetchone() == (2,)
        assert repo.get(e.id) == e
    with duckdb.connect(str(repo.path), read_only=True), \
            pytest.raises(StoreError, match="open with other settings"):
        repo.add([make_experiment()])
    assert len(repo.list()) == 2


def test_between_calls_the_file_is_free_for_other_processes(
        repo: DuckDBExperimentRepository) -> None:
    for _ in range(3):
        repo.add([make_experiment()])
        other = subprocess.run(
            [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
             "print(c.execute('select count(*) from experiments').fetchone()[0])",
             str(repo.path)], capture_output=True, text=True, timeout=60)
        assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == "3"
    assert not Path(str(repo.path) + ".wal").exists()  # checkpointed when released


FORK = """
import os, sys
from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from tests.factories import make_experiment
repo = DuckDBExperimentRepository(sys.argv[1])
repo.add([make_experiment()])  # the parent's resident connection exists now
pid = os.fork()
repo.add([make_experiment()])  # parent and child each log one; the child then exits normally
if pid:
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_child_logs_through_its_own_connection(tmp_path: Path) -> None:
    path = tmp_path / "fork.duckdb"
    done = subprocess.run([sys.executable, "-c", FORK, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]  # -11 was a crash at the child's exit
    assert len(DuckDBExperimentRepository(path).list()) == 3


def test_each_migration_is_named_by_its_number() -> None:
    # Later migrations are registered by importing their modules: the order of the imports
    # must keep every number where its name says.
    assert [fn.__name__[:5] for fn in MIGRATIONS] == [
        f"m{n:03d}_" for n in range(1, len(MIGRATIONS) + 1)]
