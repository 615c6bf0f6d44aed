"""The playground panel in plain Python: set traits, send its action messages, assert on state
and on the experiment log."""

from __future__ import annotations

import functools
import itertools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nbplayground import InvalidInput
from nbplayground.configuration import Endpoint
from nbplayground.ui.panel import PlaygroundPanel
from nbplayground.ui.streaming import LatestOnly, Throttle
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

CANARY = "sk-canary-PANEL-0123456789abcd"


@pytest.fixture
def pg(make_pg: Any) -> Any:
    return make_pg(provider="simulated", simulated_latency=0.05)


def panel_of(pg: Any, **initial: Any) -> PlaygroundPanel:
    panel = PlaygroundPanel(pg, **initial)
    assert panel.wait(30)
    return panel


def act(panel: PlaygroundPanel, action: str, **content: Any) -> None:
    panel.receive(panel, {"action": action, **content}, [])
    assert panel.wait(30), "the panel did not finish"


def test_run_streams_the_answer_shows_metrics_and_logs_one_row(pg: Any) -> None:
    panel = panel_of(pg, prompt="Write a haiku about rain", system="Be brief.", temperature=0.7)
    seen: list[str] = []
    panel.observe(lambda c: seen.append(c["new"]), names="answer")
    act(panel, "run")
    assert panel.status == "done"
    assert panel.error == {}
    exp = pg.get(panel.metrics["id"])
    assert panel.answer == exp.response
    assert len(seen) >= 2
    assert all(exp.response.startswith(s) for s in seen)
    m = panel.metrics
    assert (m["prompt_tokens"], m["completion_tokens"]) == (exp.metrics.prompt_tokens,
                                                            exp.metrics.completion_tokens)
    assert m["cost"].startswith("$")
    assert m["time"].endswith(("ms", " s"))
    log = pg.history()
    assert len(log) == 1
    row = log.iloc[0]
    assert (row.id, row.prompt, row.system, row.model, row.temperature, row.status) == (
        exp.id, "Write a haiku about rain", "Be brief.", "gpt-4o-mini", 0.7, "ok")


class SteppedTime:
    """A Throttle's clock and scheduler, stepped by the test: nothing scheduled runs until
    `step()` moves the clock to it, so what is flushed when does not depend on the machine."""

    def __init__(self) -> None:
        self.now = 0.0
        self._due: list[tuple[float, Callable[[], None]]] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def schedule(self, delay: float, fire: Callable[[], None]) -> Callable[[], None]:
        entry = (self.now + delay, fire)
        with self._lock:
            self._due.append(entry)

        def cancel() -> None:
            with self._lock:
                if entry in self._due:
                    self._due.remove(entry)
        return cancel

    def step(self, until: float | None = None) -> bool:
        """Run the earliest scheduled call (if due by `until`); False when there was none."""
        with self._lock:
            if not self._due or (until is not None and min(self._due)[0] > until):
                return False
            self._due.sort(key=lambda e: e[0])
            when, fire = self._due.pop(0)
        self.now = max(self.now, when)
        fire()
        return True


def test_streaming_updates_are_throttled_to_20_per_second(
        make_pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    time_ = SteppedTime()
    monkeypatch.setattr("nbplayground.ui.panel.Throttle", functools.partial(
        Throttle, clock=time_.clock, schedule=time_.schedule))
    pg = make_pg(provider="simulated", simulated_latency=1.5)
    panel = panel_of(pg, prompt="Tell a long story", max_tokens=2000)
    stamps: list[float] = []
    panel.observe(lambda c: stamps.append(time_.now), names="answer")
    panel.receive(panel, {"action": "run"}, [])
    steps = 0
    while not panel.wait(0.02):  # the stream goes on in real time; the throttle's time steps
        steps += time_.step()
    exp = pg.get(panel.metrics["id"])
    assert panel.answer == exp.response  # nothing lost
    assert exp.metrics.completion_tokens > 40  # many more deltas than updates
    assert len(stamps) >= 3, "the answer should stream, not arrive at once"
    assert len(stamps) <= steps + 1  # one flush at the start, then only when the interval ends
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.05 - 1e-9  # FLUSH_INTERVAL: at most 20 updates per second


def test_live_estimate_counts_prompt_tokens_in_the_kernel(pg: Any) -> None:
    panel = panel_of(pg)
    assert panel.estimate == {}  # nothing typed yet: no count, no complaint
    panel.prompt = "How many tokens is this prompt?"
    assert panel.wait(30)
    preview = pg.preview("How many tokens is this prompt?", "gpt-4o-mini", max_tokens=256)
    assert panel.estimate["prompt_tokens"] == preview["prompt_tokens"]
    assert panel.estimate["cost"].startswith("$")
    assert panel.estimate["error"] == ""


def test_the_estimates_price_range_says_simulated_once(pg: Any) -> None:
    panel = panel_of(pg, prompt="How much could this cost?", model="gpt-4o")
    cost = panel.estimate["cost"]
    assert " – " in cost  # a range: an empty answer up to max_tokens
    assert cost.count("simulated") == 1 and cost.endswith("(simulated, not billed)")


def test_bad_temperature_is_shown_inline_and_nothing_is_sent(pg: Any) -> None:
    panel = panel_of(pg, prompt="hi")
    panel.params = {**panel.params, "temperature": 5}
    assert panel.wait(30)
    assert "temperature must be between 0 and 2" in panel.estimate["error"]
    act(panel, "run")
    assert panel.status == "error"
    assert panel.error["title"] == "Check the parameters"
    assert "temperature must be between 0 and 2 for gpt-4o-mini" in panel.error["detail"]
    assert "Traceback" not in json.dumps(panel.get_state(), default=str)
    assert pg.history().empty


def test_a_refused_key_reads_as_plain_words(make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key="sk-wrong-key-000000000"))
    panel = panel_of(pg, prompt="hi")
    act(panel, "run")
    assert panel.status == "error"
    assert panel.error["title"] == "The API key was refused"
    assert panel.error["kind"] == "AuthenticationFailed"
    assert panel.error["detail"]
    assert pg.history().iloc[0].status == "error"  # logged exactly like pg.run


def test_reasoning_model_disables_what_it_does_not_take(pg: Any) -> None:
    panel = panel_of(pg, prompt="Prove it", model="o4-mini", max_tokens=300)
    assert set(panel.disabled) == {"temperature", "top_p", "frequency_penalty",
                                   "presence_penalty", "stop", "logprobs", "top_logprobs",
                                   "reasoning_summary"}  # that one only on the Responses API
    assert "reasoning model" in panel.disabled["temperature"]
    o4 = next(m for m in panel.models if m["model"] == "o4-mini")
    assert o4["unsupported"] == panel.disabled  # the same reasons drive the compare columns
    act(panel, "run")  # the disabled sliders still hold values; they are not sent
    assert panel.status == "done"
    row = pg.history().iloc[0]
    assert row.model == "o4-mini"
    assert row.temperature != row.temperature
    panel.model = "gpt-4o-mini"
    assert set(panel.disabled) == {"reasoning_effort", "verbosity", "reasoning_summary"}


def test_multi_turn_messages_are_sent_before_the_prompt(pg: Any) -> None:
    turns = [{"role": "user", "content": "My name is Ada."},
             {"role": "assistant", "content": "Nice to meet you, Ada."}]
    panel = panel_of(pg, system="Be kind.", messages=turns, prompt="What is my name?")
    act(panel, "run")
    exp = pg.get(panel.metrics["id"])
    assert [m.as_dict() for m in exp.messages] == [
        {"role": "system", "content": "Be kind."}, *turns,
        {"role": "user", "content": "What is my name?"}]


def test_history_filters_and_loads_a_run_back(pg: Any) -> None:
    panel = panel_of(pg, prompt="Name three rivers", temperature=0.3, stop=["\n\n"], seed=7)
    act(panel, "run")
    first = panel.metrics["id"]
    panel.prompt, panel.model, panel.system = "Name three mountains", "gpt-4.1-nano", "Short."
    act(panel, "run")
    act(panel, "history", search="rivers", model="")
    assert [r["id"] for r in panel.history] == [first]
    act(panel, "history", search="", model="gpt-4.1-nano")
    assert [r["model"] for r in panel.history] == ["gpt-4.1-nano"]
    act(panel, "history", search="", model="")
    assert len(panel.history) == 2
    assert panel.history[0]["prompt"] == "Name three mountains"

    act(panel, "load", id=first)
    assert (panel.prompt, panel.model, panel.system, panel.view) == (
        "Name three rivers", "gpt-4o-mini", "", "chat")
    assert panel.params["temperature"] == 0.3
    assert panel.params["stop"] == ["\n\n"]
    assert panel.params["seed"] == 7
    assert panel.answer == pg.get(first).response
    assert panel.metrics["id"] == first


def test_compare_runs_columns_in_parallel_and_logs_each(make_pg: Any, stub: OpenAIStub) -> None:
    # Each answer waits until both columns' requests are being handled at once: run one after
    # the other, the barrier breaks (after 30 s) and the columns fail.
    both = threading.Barrier(2, timeout=30)
    stub.reply_with = lambda body: f"column answer {both.wait()}"
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    panel = panel_of(pg, prompt="Explain recursion in one paragraph")
    panel.compare_columns = [
        {"model": "gpt-4o-mini", "params": {"temperature": 0.2}},
        {"model": "gpt-4.1-nano", "params": {"temperature": 1.2, "max_tokens": 40}}]
    act(panel, "compare")
    assert stub.max_in_flight() == 2, "the columns ran one after the other"
    assert panel.compare_status == "done"
    a, b = panel.compare_results
    assert a["status"] == b["status"] == "done"
    assert a["answer"]
    assert b["answer"]
    log = pg.history().set_index("id")
    assert log.loc[a["metrics"]["id"], ["model", "temperature"]].tolist() == ["gpt-4o-mini", 0.2]
    assert log.loc[b["metrics"]["id"], ["model", "temperature", "max_tokens"]].tolist() == [
        "gpt-4.1-nano", 1.2, 40]
    assert b["answer"] == pg.get(b["metrics"]["id"]).response


def stopped_run(make_pg: Any) -> tuple[Any, PlaygroundPanel]:
    pg = make_pg(provider="simulated", simulated_latency=3.0)
    panel = panel_of(pg, prompt="Take your time", max_tokens=500)
    panel.receive(panel, {"action": "run"}, [])
    deadline = time.monotonic() + 5
    while not panel.answer and time.monotonic() < deadline:
        time.sleep(0.02)
    act(panel, "stop")
    return pg, panel


def test_stop_cancels_the_run(make_pg: Any) -> None:
    _, panel = stopped_run(make_pg)
    assert panel.status == "stopped"
    assert panel.answer
    assert panel.error == {}


def test_a_stopped_run_is_logged_and_shown_in_history(make_pg: Any) -> None:
    pg, panel = stopped_run(make_pg)
    # No wait for the log: the run's future settles only once the stopped row is written.
    log = pg.history()
    assert list(log["status"]) == ["stopped"]
    assert panel.answer.startswith(log["response"].iloc[0])
    panel.view = "history"
    assert panel.wait(30)
    assert [(r["status"], r["response"][:20]) for r in panel.history] == [
        ("stopped", panel.answer[:20].strip())]


def test_code_view_and_the_notebook_cell_reproduce_the_configuration(pg: Any) -> None:
    panel = panel_of(pg, prompt="Say hi", system="Terse.", temperature=0.4, max_tokens=64)
    panel.view = "code"
    assert panel.wait(30)
    code = panel.code
    assert '"model": "gpt-4o-mini"' in code["curl"]
    assert "Terse." in code["curl"]
    assert "client.chat.completions.create(" in code["python"]
    assert "temperature=0.4" in code[
        "python"]
    assert "new OpenAI(" in code["javascript"]
    assert code["notebook"].startswith("exp = pg.run(")
    namespace: dict[str, Any] = {"pg": pg}
    exec(code["notebook"], namespace)  # the cell runs as is
    exp = namespace["exp"]
    assert (exp.prompt, exp.system, exp.parameters.temperature, exp.parameters.max_tokens) == (
        "Say hi", "Terse.", 0.4, 64)
    assert exp.request_body == json.loads(
        code["curl"].split("<<'JSON'\n", 1)[1].rsplit("\nJSON", 1)[0])
    panel.prompt = "Say bye"  # the code follows the configuration while the tab is open
    assert panel.wait(30)
    assert "Say bye" in panel.code["python"]


def test_compare_code_is_a_zipped_sweep(pg: Any) -> None:
    panel = panel_of(pg, prompt="Pick a colour")
    panel.compare_columns = [
        {"model": "gpt-4o-mini", "provider": "simulated", "params": {"temperature": 0.1}},
        {"model": "o4-mini", "provider": "simulated", "params": {"temperature": 0.9}}]
    panel.view = "code"
    assert panel.wait(30)
    code = panel.code["compare"]
    assert code.startswith("sw = pg.sweep(")
    assert "mode='zip'" in code
    namespace: dict[str, Any] = {"pg": pg}
    exec(code, namespace)
    frame = namespace["sw"].to_pandas()
    assert sorted(frame.model) == ["gpt-4o-mini", "o4-mini"]


def test_send_to_notebook_sends_the_cell_to_the_asking_view(
        pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = panel_of(pg, prompt="Hello")
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(panel, "send", lambda content, buffers=None: sent.append(content))
    act(panel, "notebook", what="chat", view="v1")
    assert sent == [{"type": "insert", "code": "exp = pg.run(\n    'Hello',\n    model="
                     "'gpt-4o-mini',\n    temperature=1.0,\n    max_tokens=256,\n    top_p=1.0,"
                     "\n    frequency_penalty=0.0,\n    presence_penalty=0.0,\n)\nexp\n",
                     "model_id": panel.model_id, "view": "v1", "what": "chat"}]


@pytest.mark.parametrize(("tab", "head"), [
    ("python", "from openai import OpenAI"), ("javascript", "%%script node\n"),
    ("curl", "%%bash\ncurl -sS"), ("notebook", "exp = pg.run(")])
def test_send_to_notebook_from_a_code_tab_sends_the_code_on_that_tab(
        pg: Any, monkeypatch: pytest.MonkeyPatch, tab: str, head: str) -> None:
    panel = panel_of(pg, prompt="Hello")
    panel.view = "code"
    assert panel.wait(30)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(panel, "send", lambda content, buffers=None: sent.append(content))
    act(panel, "notebook", what=tab, view="v1")
    [msg] = sent
    assert msg["what"] == tab and msg["code"].startswith(head)
    assert msg["code"].endswith(panel.code[tab])


def test_compare_columns_start_from_the_chat_settings_they_are_opened_from(pg: Any) -> None:
    panel = panel_of(pg, prompt="Pick a colour")
    panel.model, panel.params = "gpt-4.1-nano", {**panel.params, "max_tokens": 77,
                                                  "seed": 3}
    panel.view = "compare"
    assert panel.wait(30)
    a, b = panel.compare_columns
    assert (a["model"], a["params"]["max_tokens"], a["params"]["seed"]) == ("gpt-4.1-nano", 77, 3)
    assert (b["model"], b["params"]["max_tokens"]) == ("gpt-4.1-nano", 77)
    # Once a person edits a column, it is theirs: going back and forth keeps it.
    panel.compare_columns = [a, {**b, "model": "gpt-4o"}]
    panel.view, panel.model = "chat", "gpt-4o-mini"
    panel.view = "compare"
    assert [c["model"] for c in panel.compare_columns] == ["gpt-4.1-nano", "gpt-4o"]


def test_presets_round_trip_through_the_config_dir(pg: Any, tmp_path: Path) -> None:
    panel = panel_of(pg, prompt="Haiku about {topic}", system="A poet.", temperature=0.9)
    act(panel, "save_preset", name="poet")
    assert panel.presets == ["poet"]
    assert "poet" in panel.notice["text"]
    stored = json.loads((tmp_path / "config" / "presets.json").read_text())
    assert stored["poet"]["params"]["temperature"] == 0.9
    panel.prompt, panel.system, panel.params = "x", "", {**panel.params, "temperature": 0.1}
    act(panel, "load_preset", name="poet")
    assert (panel.prompt, panel.system, panel.params["temperature"]) == (
        "Haiku about {topic}", "A poet.", 0.9)
    assert PlaygroundPanel(pg).presets == ["poet"]  # another panel sees it
    act(panel, "save_preset", name="  ")
    assert panel.notice["level"] == "error"
    assert "name" in panel.notice["text"]
    act(panel, "delete_preset", name="poet")
    assert panel.presets == []


def test_no_key_in_any_synced_trait(make_pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    pg = make_pg(provider="simulated", api_key=CANARY)
    panel = panel_of(pg, prompt="hi")
    act(panel, "run")
    panel.view = "code"
    act(panel, "history", search="", model="")
    state = json.dumps(panel.get_state(), default=str)
    assert panel.code["python"]
    assert panel.history
    pieces = {CANARY[i:i + 8] for i in range(len(CANARY) - 7)}
    assert not [p for p in pieces if p in state]


def test_unknown_initial_argument_is_refused(pg: Any) -> None:
    with pytest.raises(InvalidInput, match="does not take 'temprature'"):
        PlaygroundPanel(pg, temprature=1)


def test_pg_panel_returns_the_widget(pg: Any) -> None:
    panel = pg.panel(prompt="hi", model="gpt-4.1-nano")
    assert isinstance(panel, PlaygroundPanel)
    assert panel.model == "gpt-4.1-nano"
    assert panel.wait(30)


def test_throttle_flushes_at_most_once_per_interval_and_never_drops_the_last() -> None:
    time_ = SteppedTime()
    flushed: list[tuple[float, int]] = []
    state = {"n": 0}
    throttle = Throttle(lambda: flushed.append((time_.now, state["n"])), interval=0.05,
                        clock=time_.clock, schedule=time_.schedule)
    for _ in range(200):  # a poke every 2 ms for 0.4 s
        state["n"] += 1
        throttle.poke()
        time_.now += 0.002
        time_.step(until=time_.now)
    while time_.step():
        pass
    assert flushed[-1][1] == 200
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(flushed)]
    assert min(gaps) >= 0.05 - 1e-9
    assert 8 <= len(flushed) <= 10  # 0.4 s at one flush per 0.05 s, plus the first


def test_a_cancelled_throttle_flushes_nothing_more() -> None:
    time_ = SteppedTime()
    flushed: list[int] = []
    throttle = Throttle(lambda: flushed.append(1), interval=0.05, clock=time_.clock,
                        schedule=time_.schedule)
    throttle.poke()
    throttle.poke()  # inside the interval: scheduled
    throttle.cancel()
    assert not time_.step()
    assert flushed == [1]


def test_latest_only_runs_the_newest_job_of_a_key() -> None:
    gate, ran = threading.Event(), []
    worker = LatestOnly()
    worker.submit("block", gate.wait)
    for i in range(5):
        worker.submit("estimate", lambda i=i: ran.append(i))
    gate.set()
    assert worker.wait(5)
    assert ran == [4]


class BrokenSubmit:
    """The facade, except that its first submit fails the way a bug would (not an
    NbPlaygroundError)."""

    def __init__(self, pg: Any) -> None:
        self._pg = pg
        self.failures = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pg, name)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the loop thread is gone")
        return self._pg.submit(*args, **kwargs)


def test_an_unexpected_failure_is_shown_in_words_and_the_panel_stays_usable(pg: Any) -> None:
    panel = panel_of(BrokenSubmit(pg), prompt="hi")
    act(panel, "run")
    assert panel.status == "error"
    assert panel.error["title"] == "Something went wrong"
    assert panel.error["detail"] == "RuntimeError: the loop thread is gone"
    act(panel, "run")  # the failed run did not leave the panel busy
    assert panel.status == "done"


def test_a_run_over_budget_is_blocked_with_the_gates_words(make_pg: Any,
                                                          stub: OpenAIStub) -> None:
    from tests.conftest import TEST_KEY

    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    pg.set_limits(daily_usd=0.000001)
    panel = panel_of(pg, prompt="This run cannot fit a budget of a millionth of a dollar.")
    assert panel.wait(30)
    blocked = panel.estimate["blocked"]
    assert blocked and "budget" in blocked.lower()
    act(panel, "run")
    assert panel.status == "error" and panel.error["kind"] == "BudgetExceeded"
    assert stub.count("/v1/chat/completions") == 0


def test_a_run_within_budget_is_not_blocked(pg: Any) -> None:
    panel = panel_of(pg, prompt="simulated runs are free of budgets")
    assert panel.wait(30)
    assert panel.estimate["blocked"] is None


def test_the_controls_come_from_the_field_table_and_the_js_names_no_field(pg: Any) -> None:
    import re

    from nbplayground.domain.fields import FIELDS

    panel = panel_of(pg, prompt="x", model="gpt-5.5")
    assert [c["name"] for c in panel.fields] == [f.name for f in FIELDS]
    max_tokens = next(c for c in panel.fields if c["limit"] == "max_output_tokens")
    assert max_tokens["min"] == 1 and max_tokens["max"] is None  # the model's limit, not 4096
    assert {"temperature", "top_p"} <= set(panel.disabled)  # a new reasoning release
    js = (Path(__file__).parents[2] / "src/nbplayground/ui/panel.js").read_text()
    # "stop" is also the Stop button's action; as a request field it would be params.stop.
    named = [f.name for f in FIELDS if re.search(
        rf"\b{f.name}\b" if f.name != "stop" else r"params\.stop|params\[\"stop\"\]", js)]
    assert named == []


def test_metrics_carry_reasoning_tokens_tinted_tokens_and_tool_steps() -> None:
    from nbplayground.domain import TokenLogprob, ToolCall
    from nbplayground.domain.metrics import ResponseMetrics
    from nbplayground.ui import state
    from tests.factories import make_experiment

    exp = make_experiment(
        response="Hi", metrics=ResponseMetrics(completion_tokens=9, reasoning_tokens=7),
        token_logprobs=(TokenLogprob(token="Hi", logprob=-0.5, top=(("Hi", -0.5),
                                                                    ("Yo", -1.2))),),
        tool_calls=(ToolCall(id="c", name="ping", arguments={"n": 1}, result="pong"),))
    m = state.metrics_of(exp)
    assert m["reasoning_tokens"] == 7
    assert m["tokens"][0]["t"] == "Hi" and abs(m["tokens"][0]["p"] - 0.6065) < 1e-3
    assert m["tokens"][0]["top"][1][0] == "Yo"
    assert m["tool_calls"] == [{"name": "ping", "args": '{"n": 1}', "result": "pong",
                                "error": None}]


def test_scorers_badge_each_run_and_compare_column_and_filter_history(pg: Any) -> None:
    from nbplayground import scorers as s

    panel = panel_of(pg, prompt="Say something", scorers=[
        s.regex(r"\w+", name="has_words"), s.contains("no such phrase anywhere", name="phrase"),
        s.cost(max_usd=1.0)])
    assert panel.scorer_names == ["has_words", "phrase", "cost"]
    act(panel, "run")
    badges = {b["name"]: b for b in panel.metrics["scores"]}
    assert list(badges) == ["has_words", "phrase", "cost"]
    assert badges["has_words"]["passed"] and badges["cost"]["passed"]
    assert not badges["phrase"]["passed"] and badges["phrase"]["score"] == 0.0
    assert badges["cost"]["shown"].startswith("$") and badges["phrase"]["shown"] == ""
    act(panel, "compare")
    for column in panel.compare_results:
        assert [b["name"] for b in column["metrics"]["scores"]] == ["has_words", "phrase", "cost"]
    act(panel, "history", search="", model="", passed="failed")
    assert len(panel.history) == 3 and all(r["passed"] is False for r in panel.history)
    act(panel, "history", search="", model="", passed="passed")
    assert panel.history == []


def test_a_run_that_passes_is_found_by_the_passed_filter(pg: Any) -> None:
    from nbplayground import scorers as s

    pg.run("An earlier run, before the panel", model="gpt-4o-mini")
    panel = panel_of(pg, prompt="Say something", scorers=[s.regex(r"\w")])
    act(panel, "history", search="", model="", passed="passed")
    [row] = panel.history  # scored afresh: the panel never ran it
    assert row["passed"] is True and row["scores"][0]["name"] == "regex"


def test_a_judge_in_the_panel_is_a_run_of_its_own(pg: Any) -> None:
    from nbplayground import scorers as s

    panel = panel_of(pg, prompt="Name a colour", scorers=[
        s.judge("Is {answer} a colour? Score 0-1.", model="gpt-4o-mini", threshold=0.5)])
    act(panel, "run")
    [badge] = panel.metrics["scores"]
    assert badge["name"] == "judge" and badge["score"] is not None, badge
    assert len(pg.history()) == 2  # the run and the judge's call


def test_a_scorer_that_needs_vars_is_refused_when_the_panel_opens(pg: Any) -> None:
    from nbplayground import scorers as s
    from nbplayground.evaluation import InvalidScorer

    with pytest.raises(InvalidScorer, match="capital"):
        PlaygroundPanel(pg, scorers=[s.exact("{capital}")])


def test_tools_by_name_are_the_notebooks_functions(pg: Any, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    from nbplayground.ui import namespace

    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    monkeypatch.setattr(namespace, "user_namespace",
                        lambda: {"get_weather": get_weather, "limit": 3})
    panel = panel_of(pg, prompt="Weather in Paris?")
    panel.params = {**panel.params, "tools": ["get_weather"]}
    panel.view = "code"
    assert panel.wait(30)
    assert panel.estimate["error"] == ""
    assert "tools=[get_weather]," in panel.code["notebook"]
    assert '"name": "get_weather"' in panel.code["curl"]
    for name, needle in (("get_wether", "no function named 'get_wether' is defined in this "
                          "notebook"), ("limit", "'limit' in this notebook is an int, not a "
                                                 "function")):
        panel.params = {**panel.params, "tools": [name]}
        assert panel.wait(30)
        assert needle in panel.estimate["error"]


def test_the_responses_api_disables_what_it_does_not_take(pg: Any) -> None:
    panel = panel_of(pg, prompt="Hello")
    assert "frequency_penalty" not in panel.disabled
    panel.params = {**panel.params, "api": "responses"}
    panel.view = "code"
    assert panel.wait(30)
    assert panel.disabled["frequency_penalty"] == \
        "the Responses API does not take frequency penalty"
    assert "client.responses.create(" in panel.code["python"]
    assert "frequency_penalty" not in panel.code["python"]
    assert panel.estimate["error"] == ""


def _png(size: int = 32) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def test_an_attached_image_goes_with_the_prompt_and_stays_out_of_widget_state(pg: Any) -> None:
    panel = panel_of(pg, prompt="What colour is this?")
    before = panel.estimate["prompt_tokens"]
    act(panel, "attach", name="dot.png")  # no bytes: refused in words
    assert "without its bytes" in panel.notice["text"]
    panel.receive(panel, {"action": "attach", "name": "notes.txt"}, [b"plain text"])
    assert "notes.txt: an image given as bytes is not an image" in panel.notice["text"]
    panel.receive(panel, {"action": "attach", "name": "dot.png"}, [memoryview(_png())])
    assert panel.wait(30)
    [shown] = panel.attachments
    assert (shown["name"], shown["media_type"], shown["width"]) == ("dot.png", "image/png", 32)
    assert panel.estimate["prompt_tokens"] > before  # the image's tokens are counted
    state_text = json.dumps(panel.get_state(), default=str)
    assert "iVBOR" not in state_text  # no image bytes (base64 PNG) in what a notebook saves
    panel.view = "code"
    assert panel.wait(30)
    assert "images=['dot.png']," in panel.code["notebook"]
    act(panel, "run")
    assert panel.status == "done"
    [image] = pg.get(panel.metrics["id"]).images
    assert image.media_type == "image/png"
    act(panel, "detach", index=0)
    assert panel.attachments == []
