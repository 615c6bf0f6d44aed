"""The team log's `batches` table is a user's data: row security on current_user, like the rest,
and a batch not yet read holds its maximum cost in the owner's budget only."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest

from nbplayground.adapters.postgres import PostgresExperimentRepository
from nbplayground.adapters.postgres.ledger import PostgresUsageLedger
from nbplayground.domain.batch import BatchRecord
from nbplayground.ids import utcnow
from tests.team.conftest import Team


def test_a_user_sees_and_writes_only_their_own_batches(team: Team, connect: Any) -> None:
    alice = PostgresExperimentRepository(team.dsn("alice"))
    mine = BatchRecord(user_id="alice", sweep_id="sw-a", custom_ids=("k1",), max_cost=0.5)
    alice.save_batch(mine)
    assert alice.batches() == [mine]
    bob = PostgresExperimentRepository(team.dsn("bob"))
    assert bob.batches() == []
    with pytest.raises(Exception, match="row-level security"):
        bob.save_batch(BatchRecord(user_id="alice", sweep_id="forged"))
    raw = connect("bob")
    assert raw.execute("SELECT count(*) FROM batches").fetchone() == (0,)
    assert raw.execute("UPDATE batches SET status = 'cancelled'").rowcount == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw.execute("DELETE FROM batches")
    alice.close()
    bob.close()


def test_an_unread_batch_holds_its_maximum_in_its_owners_budget(team: Team) -> None:
    repo = ledger = PostgresUsageLedger(team.dsn("alice"))
    today = utcnow().date()
    before = ledger.snapshot("alice", today).spent_today
    waiting = BatchRecord(user_id="alice", custom_ids=("k1",), max_cost=0.75)
    repo.save_batch(waiting)
    assert ledger.snapshot("alice", today).spent_today == pytest.approx(before + 0.75)
    assert ledger.snapshot("alice", date(today.year, today.month, 1)).spent_month >= 0.75
    repo.save_batch(waiting.model_copy(update={"status": "completed", "ingested_at": utcnow()}))
    assert ledger.snapshot("alice", today).spent_today == pytest.approx(before)
    repo.close()


def test_a_batch_sweep_on_the_team_log(team: Team, stub: Any) -> None:
    from nbplayground import Playground
    from nbplayground.configuration import Endpoint
    from tests.conftest import TEST_KEY

    with Playground(db=team.dsn("alice"), provider=Endpoint(base_url=stub.base_url,
                                                            api_key=TEST_KEY)) as pg:
        sw = pg.sweep(["one", "two"], max_tokens=6, via="batch", progress=False)
        sw.wait(poll=0, progress=False, sleep=lambda s: stub.batch_api.advance())
        assert sw.count("ok") == 2
        frame = pg.history()
        assert list(frame["via"]) == ["batch", "batch"]
        assert set(frame["price_source"]) == {"genai-prices batch rate"}
        [row] = pg.repository.batches()
        assert row.status == "completed" and row.ingested_at is not None
        again = pg.sweep(["one", "two"], max_tokens=6, via="batch", progress=False)
        assert again.count("cached") == 2 and stub.batch_api.created == 1
