"""One PromptRepository contract over the fake, the DuckDB file and the team log: versions
numbered per user and name, the same content found again, rows read back whole."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from nbplayground.adapters import log_location
from nbplayground.domain.prompts import PromptVersion
from tests.adapters.test_repository_contract import BACKENDS, Backend, postgres_repo
from tests.factories import T0
from tests.fakes import FakeExperimentRepository, FakePromptRepository

__all__ = ["postgres_repo"]  # the fixture, for the postgres backend


@pytest.fixture(params=[pytest.param(b, id=b.name, marks=b.marks) for b in BACKENDS])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Each backend's prompt repository, on the same file or connections as its log."""
    backend: Backend = request.param
    for repo in backend.open(request):
        if isinstance(repo, FakeExperimentRepository):
            yield FakePromptRepository()
        else:
            db = getattr(repo, "dsn", None) or repo.path
            yield log_location.open_prompts(db, repo)


def draft(name: str = "capitals", author: str = "alice", **kw: Any) -> PromptVersion:
    base: dict[str, Any] = {"template": "Capital of {country}?", "system": "One word.",
                            "model": "gpt-4o-mini", "params": {"temperature": 0.0},
                            "created_at": T0}
    return PromptVersion(name=name, author=author, **(base | kw))


def test_a_version_reads_back_whole(store: Any) -> None:
    full = draft(template="«Quotes» ' \" and 🦆 {x}\nline two", system=None,
                 params={"temperature": 1.25, "max_tokens": 64, "stop": ["\n", "END"],
                         "response_format": {"type": "json_object"}, "seed": -(2**62)},
                 created_at=T0 + timedelta(microseconds=123456))
    saved = store.save(full)
    assert saved.version == 1
    assert saved == full.model_copy(update={"version": 1})
    assert store.versions("alice") == [saved]
    assert store.versions("alice", "capitals") == [saved]


def test_a_conversation_reads_back_whole_and_is_versioned_by_its_turns(store: Any) -> None:
    turns = [{"role": "developer", "content": "One word."},
             {"role": "user", "content": "Capital of France?"},
             {"role": "assistant", "content": "Paris"},
             {"role": "user", "content": [{"type": "input_text", "text": "And {country}?"},
                                          {"type": "input_image", "image_url": "{flag}"}]},
             {"placeholder": "history"}]
    saved = store.save(draft(template="", system=None, messages=turns))
    assert saved.messages[3]["content"][1] == {"type": "image", "url": "{flag}"}
    assert store.versions("alice", "capitals") == [saved]
    assert store.save(draft(template="", system=None, messages=turns)).version == 1
    other = store.save(draft(template="", system=None, messages=turns[:4]))
    assert other.version == 2 and other.params == {"temperature": 0.0}


def test_same_content_is_the_same_version_new_content_the_next(store: Any) -> None:
    v1 = store.save(draft())
    again = store.save(draft(created_at=T0 + timedelta(days=1)))
    assert again == v1  # the stored one, with its own created_at
    v2 = store.save(draft(params={"temperature": 0.5}))
    v3 = store.save(draft(system=None))
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]
    assert store.save(draft(params={"temperature": 0.5})) == v2  # an older content: its number
    assert [v.version for v in store.versions("alice", "capitals")] == [1, 2, 3]


def test_names_and_users_number_apart(store: Any) -> None:
    a = store.save(draft("capitals"))
    b = store.save(draft("Bios", template="Write about {who}"))
    c = store.save(draft("capitals", author="bob"))
    assert (a.version, b.version, c.version) == (1, 1, 1)
    assert [(v.name, v.version) for v in store.versions("alice")] == [("Bios", 1),
                                                                       ("capitals", 1)]
    assert store.versions("bob") == [c]
    assert store.versions("alice", "nothing") == []
    assert store.versions("carol") == []


def test_concurrent_saves_take_distinct_numbers(store: Any) -> None:
    barrier = threading.Barrier(4)
    got: list[PromptVersion] = []

    def save(i: int) -> None:
        barrier.wait()
        got.append(store.save(draft(template=f"Variant {i} of {{country}}")))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v.version for v in got) == [1, 2, 3, 4]
    assert len({v.content_hash for v in store.versions("alice", "capitals")}) == 4
