"""The panel's Compare is one pg.sweep, whatever the columns' providers: its Run sends that sweep
(streamed, stoppable) and its code is that sweep, which runs as it is."""

from __future__ import annotations

import threading
from typing import Any

from nbplayground.configuration import Endpoint
from nbplayground.ui.snippet import sweep_arguments
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub
from tests.ui.test_panel import act, panel_of

TWO = [{"model": "gpt-4o-mini", "provider": "openai", "params": {"temperature": 0.2}},
       {"model": "gpt-4o", "provider": "simulated", "params": {"temperature": 0.9}}]


def test_sweep_arguments_give_shared_values_once_and_differing_ones_as_lists() -> None:
    kw = sweep_arguments([
        {"model": "smollm2", "provider": "local", "system": "Be brief.", "temperature": 0.2,
         "stop": ["\n"]},
        {"model": "gpt-4o", "provider": None, "system": "Be brief.", "temperature": 0.9,
         "stop": None}], default_provider="simulated")
    assert kw == {"model": ["smollm2", "gpt-4o"], "provider": ["local", "simulated"],
                  "system": "Be brief.", "temperature": [0.2, 0.9], "stop": [["\n"], None],
                  "mode": "zip"}
    same = sweep_arguments([{"model": "a", "provider": "simulated"},
                            {"model": "b", "provider": None}], default_provider="simulated")
    assert same == {"model": ["a", "b"], "mode": "zip"}  # the Playground's own: not repeated


def test_a_two_provider_compare_runs_as_one_sweep_and_its_code_is_that_sweep(
        make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    panel = panel_of(pg, prompt="Name a colour.", max_tokens=12)
    panel.compare_columns = TWO
    streamed: list[str] = []
    panel.observe(lambda c: streamed.extend(r["answer"] for r in c["new"] if r["answer"]),
                  names="compare_results")
    act(panel, "compare")
    a, b = panel.compare_results
    assert panel.compare_status == "done" and a["status"] == b["status"] == "done", (a, b)
    assert streamed  # the answers streamed into their columns
    log = pg.history().set_index("id")
    rows = log.loc[[a["metrics"]["id"], b["metrics"]["id"]]]
    assert list(rows["provider"]) == ["openai", "simulated"]
    assert list(rows["temperature"]) == [0.2, 0.9]
    [sweep_id] = set(rows["sweep_id"])  # one sweep, not a run per column
    assert sweep_id is not None and len(pg.history(sweep=sweep_id)) == 2
    assert stub.count("/v1/chat/completions") == 1

    panel.view = "code"
    assert panel.wait(30)
    code = panel.code["compare"]
    assert code.startswith("sw = pg.sweep(") and code.count("pg.sweep(") == 1
    assert "pg.run(" not in code and "provider=['openai', 'simulated']" in code
    namespace: dict[str, Any] = {"pg": pg}
    exec(code, namespace)
    frame = namespace["sw"].to_pandas()
    assert list(zip(frame["provider"], frame["model"], frame["status"], strict=True)) == [
        ("openai", "gpt-4o-mini", "ok"), ("simulated", "gpt-4o", "ok")]
    # The same requests as the Run sent: the code is served from the log, nothing sent again.
    assert list(frame["cached"]) == [True, True]
    assert stub.count("/v1/chat/completions") == 1


def test_send_to_notebook_from_compare_inserts_the_one_sweep(make_pg: Any, stub: OpenAIStub,
                                                             monkeypatch: Any) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    panel = panel_of(pg, prompt="Name a colour.")
    panel.compare_columns = TWO
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(panel, "send", lambda content, buffers=None: sent.append(content))
    act(panel, "notebook", what="compare", view="v1")
    [cell] = [m["code"] for m in sent]
    assert cell.count("pg.sweep(") == 1 and "pg.run(" not in cell
    assert "provider=['openai', 'simulated']" in cell and "mode='zip'" in cell


def test_stop_during_a_compare_logs_each_column_as_stopped_in_one_sweep(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=3.0)
    panel = panel_of(pg, prompt="Take your time", max_tokens=500)
    panel.compare_columns = [{"model": "gpt-4o-mini", "params": {}},
                             {"model": "gpt-4o", "params": {}}]
    both = threading.Event()
    panel.observe(lambda c: both.set() if all(r["answer"] for r in c["new"]) else None,
                  names="compare_results")
    panel.receive(panel, {"action": "compare"}, [])
    assert both.wait(30), "the columns never streamed"
    act(panel, "stop")
    assert [r["status"] for r in panel.compare_results] == ["stopped", "stopped"]
    log = pg.history()
    assert list(log["status"]) == ["stopped", "stopped"]
    assert log["sweep_id"].nunique() == 1 and log["sweep_id"].iloc[0] is not None
    answers = {r["answer"] for r in panel.compare_results}
    assert all(any(a.startswith(text) for a in answers) for text in log["response"])
