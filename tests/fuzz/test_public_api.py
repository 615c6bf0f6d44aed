"""Hypothesis over the public API: whatever a user passes, only NbPlaygroundError escapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbplayground import NbPlaygroundError, Playground

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.lists(st.one_of(st.text(max_size=5), st.integers(), st.floats(), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.binary(max_size=8), st.just("\x00"), st.just(object()),
)
PARAMS = ("temperature", "max_tokens", "top_p", "frequency_penalty", "presence_penalty", "stop",
          "seed", "reasoning_effort")
MODELS = st.one_of(st.sampled_from(["gpt-4o-mini", "o4-mini", "gpt-4", "gpt-5-nano",
                                    "my-local-model"]), ANYTHING)
PROMPTS = st.one_of(
    st.text(max_size=200), st.just(""), st.just("a\x00b"), st.just("word " * 9000),
    st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool", ""]),
                                    "content": st.one_of(st.text(max_size=20), st.none())}),
             max_size=3),
    ANYTHING)
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb"
    with Playground(db=db, user="fuzzer", provider="simulated", simulated_latency=0) as p:
        yield p


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NbPlaygroundError:
        return None


@SETTINGS
@given(prompt=PROMPTS, model=MODELS, params=st.dictionaries(st.sampled_from(PARAMS), ANYTHING,
                                                          max_size=4))
def test_run_only_raises_our_errors(pg: Any, prompt: Any, model: Any,
                                    params: dict[str, Any]) -> None:
    exp = call(pg.run, prompt, model, **params)
    if exp is not None:
        assert exp.status in ("ok", "error")


@SETTINGS
@given(prompts=PROMPTS, model=st.one_of(MODELS, st.lists(MODELS, max_size=3)),
       params=st.dictionaries(st.sampled_from(PARAMS), st.one_of(ANYTHING, st.lists(ANYTHING,
                                                                                    max_size=3)),
                              max_size=3),
       extra=st.dictionaries(st.sampled_from(["repeats", "concurrency", "rpm", "tpm", "max_cost",
                                              "mode", "vars", "system", "price_as"]), ANYTHING,
                             max_size=3))
def test_estimate_and_sweep_only_raise_our_errors(pg: Any, prompts: Any, model: Any,
                                                  params: dict[str, Any],
                                                  extra: dict[str, Any]) -> None:
    est_extra = {k: v for k, v in extra.items() if k not in ("concurrency", "rpm", "tpm",
                                                            "max_cost")}
    est = call(pg.estimate, prompts, model, **est_extra, **params)
    if est is not None and est.calls + est.cached <= 50:
        call(pg.sweep, prompts, model, progress=False, **extra, **params)


@SETTINGS
@given(db=st.one_of(st.none(), st.text(max_size=20), st.just("/nonexistent/dir/x.duckdb"),
                    st.integers(), st.just("")),
       user=st.one_of(st.none(), st.text(max_size=10), st.integers(), st.just("\x00")),
       provider=st.one_of(st.none(), st.sampled_from(["openai", "local", "simulated", "azure"]),
                          ANYTHING))
def test_constructor_only_raises_our_errors(tmp_path: Path, db: Any, user: Any,
                                            provider: Any) -> None:
    if isinstance(db, str) and db and not db.startswith("/"):
        db = str(tmp_path / "x" / db)  # never write into the working directory
    pg = call(Playground, db=db, user=user, provider=provider)
    if pg is not None:
        call(pg.history, limit=3)
        pg.close()


@SETTINGS
@given(limit=ANYTHING, sweep=ANYTHING, search=ANYTHING, model=ANYTHING)
def test_history_only_raises_our_errors(pg: Any, limit: Any, sweep: Any, search: Any,
                                        model: Any) -> None:
    call(pg.history, limit=limit, sweep=sweep, search=search, model=model)


@SETTINGS
@given(name=st.one_of(st.just("capitals"), ANYTHING), template=st.one_of(PROMPTS, st.just("{x}")),
       system=ANYTHING, model=MODELS, version=ANYTHING,
       params=st.dictionaries(st.sampled_from([*PARAMS, "response_format", "tools", "vars"]),
                              ANYTHING, max_size=3))
def test_prompts_only_raise_our_errors(pg: Any, name: Any, template: Any, system: Any,
                                       model: Any, version: Any, params: dict[str, Any]) -> None:
    saved = call(pg.prompts.save, name, template, system=system, model=model, **params)
    call(pg.prompts.get, name, version)
    call(pg.prompts.diff, name, version, 1)
    if saved is not None:
        call(pg.run, saved, vars=params.get("vars"))
