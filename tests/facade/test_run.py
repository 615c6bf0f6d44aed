"""Playground.run end to end: simulated and over real HTTP, logged in a real DuckDB file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground import InvalidInput
from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_simulated_run_has_tokens_cost_and_one_row(make_pg: Any, db: Path) -> None:
    exp = make_pg(provider="simulated").run("Say hi", model="gpt-4o-mini")
    assert exp.metrics.prompt_tokens > 0 and exp.metrics.completion_tokens > 0
    assert exp.metrics.cost_estimate is not None and exp.metrics.cost_estimate > 0
    assert rows(db, "select count(*), any_value(provider) from experiments") == [(1, "simulated")]


def test_simulated_is_deterministic_and_follows_max_tokens(make_pg: Any, db: Path) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    a = pg.run("Tell me a story", max_tokens=12, temperature=0)
    b = pg.run("Tell me a story", max_tokens=12, temperature=0)
    assert a.response == b.response and a.id != b.id
    assert a.metrics.completion_tokens <= 12
    assert a.finish_reason == "length"


def test_env_key_and_base_url_reach_the_server_and_the_log(make_pg: Any,
        db: Path, stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
    stub.fail_next(429, headers={"retry-after-ms": "20"})
    pg = make_pg()
    assert pg.provider == "openai"
    exp = pg.run("What is DuckDB?", temperature=0.2, max_tokens=30)
    assert exp.ok and exp.response.startswith("Echo: What is DuckDB?")
    assert exp.metrics.prompt_tokens == 3  # the server's count (words), not ours
    assert exp.base_url == stub.base_url
    got = rows(db, "select response, prompt_tokens, completion_tokens from experiments")
    assert got == [(exp.response, 3, exp.metrics.completion_tokens)]
    attempts = rows(db, "select attempt, status_code, request_id from api_requests "
                        "order by attempt")
    assert [(a, s) for a, s, _ in attempts] == [(0, 429), (1, 200)]
    assert attempts[1][2] == stub.requests[-1].request_id


def test_streamed_run_calls_on_token(make_pg: Any, db: Path, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    pieces: list[str] = []
    exp = pg.run("stream me please", on_token=pieces.append)
    assert "".join(pieces) == exp.response and len(pieces) > 2


def test_a_refused_key_is_an_error_row_and_the_key_is_nowhere(
        make_pg: Any, db: Path, stub: OpenAIStub) -> None:
    canary = "sk-canary-ZZZZ1111YYYY2222XXXXqvwj"  # a tail no port or id can contain
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=canary))
    exp = pg.run("hello")
    assert exp.status == "error" and "refused the API key" in (exp.error or "")
    pg.close()
    blob = db.read_bytes() + (db.with_suffix(".duckdb.wal").read_bytes()
                              if db.with_suffix(".duckdb.wal").exists() else b"")
    for i in range(len(canary) - 7):
        assert canary[i:i + 8].encode() not in blob
    assert canary[-4:] not in (exp.error or "")


def test_no_key_and_no_local_model_means_simulated_with_a_notice(make_pg: Any,
        db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nbplayground.facade_providers.local_available", lambda: False)
    pg = make_pg()
    assert pg.provider == "simulated"
    assert "pip install 'nbplayground[local]'" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs", [{"provider": "azure"}, {"user": ""}, {"user": "a\x00b"}])
def test_bad_constructor_arguments(make_pg: Any, db: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        make_pg(**kwargs)  # type: ignore[arg-type]


def test_history_is_newest_first_and_filters(make_pg: Any, db: Path) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    first = pg.run("first prompt")
    second = pg.run("second prompt", model="gpt-4.1-nano")
    h = pg.history()
    assert list(h["id"]) == [second.id, first.id]
    assert list(pg.history(limit=1)["id"]) == [second.id]
    assert list(pg.history(model="gpt-4.1-nano")["id"]) == [second.id]
    with pytest.raises(InvalidInput):
        pg.history(limit=0)


def test_experiment_renders_a_card_and_its_code(make_pg: Any, db: Path) -> None:
    exp = make_pg(provider="simulated", simulated_latency=0).run("card <b>me</b>")
    html = exp._repr_html_()
    assert "&lt;b&gt;" not in html or "card" in html
    assert "tokens" in html and "$" in html and "simulated" in html


def test_a_new_reasoning_release_is_sent_only_what_it_takes(make_pg: Any, stub: OpenAIStub
                                                            ) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    exp = pg.run("hi", model="gpt-5.5", max_tokens=16)
    assert exp.ok, exp.error
    body = stub.requests[-1].body
    assert body["max_completion_tokens"] == 16
    assert not {"max_tokens", "temperature", "top_p", "frequency_penalty",
                "presence_penalty"} & set(body)
    before = stub.count()
    with pytest.raises(InvalidInput, match=r"gpt-5.5 does not accept temperature: it is a "
                                           "reasoning model"):
        pg.run("hi", model="gpt-5.5", temperature=0.5)
    assert stub.count() == before  # refused before anything was sent


def test_a_dated_chat_snapshot_runs_as_chat_and_is_priced(make_pg: Any) -> None:
    exp = make_pg(provider="simulated").run("hi", model="gpt-4.1-2025-04-14", temperature=0.3)
    assert exp.ok and exp.parameters.temperature == 0.3
    assert exp.metrics.cost_estimate is not None and exp.metrics.cost_estimate > 0


def test_an_image_run_logs_its_hash_and_keeps_the_bytes_once(make_pg: Any, db: Path,
                                                             tmp_path: Path) -> None:
    from tests.experimentation.test_answers_and_tools import png

    image = tmp_path / "a.png"
    image.write_bytes(png())
    pg = make_pg(provider="simulated")
    a = pg.submit("Describe it.", images=[image]).result()
    b = pg.submit("Describe it again.", images=[image.read_bytes()]).result()
    assert a.ok and b.ok and a.images == b.images
    assert rows(db, "select count(*), any_value(media_type) from attachments") == [
        (1, "image/png")]
    assert pg.repository.attachment(a.images[0].sha256) == image.read_bytes()
    back = pg.get(a.id)
    assert back.images == a.images and back.messages == a.messages  # images come back too
    assert back.request_body["messages"][-1]["content"][1]["type"] == "image_url"
