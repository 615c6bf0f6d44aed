"""Scorers in a real sweep (simulated provider, the DuckDB log): scores survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbplayground import Playground
from nbplayground import scorers as s
from nbplayground.evaluation import InvalidScorer

VARS = [{"country": "France", "capital": "Paris"}, {"country": "Japan", "capital": "Tokyo"}]
PROMPT = "Capital of {country}? One word."


def scorers() -> list[s.Scorer]:
    return [s.contains("{capital}"), s.regex(r"^[A-Z]"),
            s.judge("Is {answer} the capital of {country}?", model="gpt-4o-mini")]


def test_a_scored_sweep_logs_its_scores_with_its_cells(tmp_path: Path) -> None:
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    sw = pg.sweep(PROMPT, vars=VARS, model=["gpt-4o-mini", "gpt-4.1-nano"],
                  scorers=scorers(), progress=False)
    long = sw.scores()
    assert len(long) == 4 * 3
    assert set(long["scorer"]) == {"contains", "regex", "judge"}
    judged = long[long["scorer"] == "judge"]
    assert judged["judge_experiment_id"].notna().all()
    assert judged["score"].between(0, 1).all()
    wide = sw.to_pandas()
    assert {"contains", "regex", "judge", "passed"} <= set(wide.columns)
    assert not wide["passed"].any()  # the simulated answers never contain the capital
    logged = pg.repository.scores(sweep_id=sw.id)
    assert len(logged) == 12
    roles = pg.repository.query("SELECT coalesce(role, 'cell') AS role, count(*) AS n, "
                                "count(judged_experiment_id) AS linked FROM experiments "
                                "GROUP BY ALL ORDER BY role")
    assert roles.to_dict("records") == [{"role": "cell", "n": 4, "linked": 0},
                                        {"role": "judge", "n": 4, "linked": 4}]
    assert pg.repository.query("SELECT count(*) AS n FROM experiments")["n"][0] == 8

    again = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                       simulated_latency=0)  # a restart: everything comes from the log
    sw2 = again.sweep(PROMPT, vars=VARS, model=["gpt-4o-mini", "gpt-4.1-nano"],
                      scorers=scorers(), progress=False)
    assert sw2.count("cached") == 4
    assert again.repository.query("SELECT count(*) AS n FROM experiments")["n"][0] == 8
    assert sorted(sw2.scores()["score"].round(6)) == sorted(long["score"].round(6))
    assert len(again.repository.scores(sweep_id=sw.id)) == 12  # replaced, not doubled


def test_a_reference_to_a_missing_column_is_refused_before_any_request(tmp_path: Path
                                                                       ) -> None:
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    with pytest.raises(InvalidScorer, match="capitol"):
        pg.sweep(PROMPT, vars=VARS, scorers=[s.exact("{capitol}")], progress=False)
    assert not (tmp_path / "log.duckdb").exists() or pg.history().empty


def test_the_estimate_counts_judge_calls(tmp_path: Path) -> None:
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    plain = pg.estimate(PROMPT, vars=VARS)
    judged = pg.estimate(PROMPT, vars=VARS, scorers=scorers())
    assert judged.calls == 2 * plain.calls
    assert (judged.max_cost or 0) > (plain.max_cost or 0)


def test_a_judged_sweep_reads_its_verdicts_without_importing_jsonschema(tmp_path: Path) -> None:
    """The verdict's schema is checked by pydantic: jsonschema (2 s to import here, at a
    process's first judge) is not needed to judge, and a verdict still comes out."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from nbplayground import Playground, scorers as s\n"
        f"pg = Playground(db={str(tmp_path / 'log.duckdb')!r}, user='u', provider='simulated',"
        " simulated_latency=0)\n"
        "sw = pg.sweep('Item {i}', vars=[{'i': 1}, {'i': 2}], progress=False,"
        " scorers=[s.judge('Is {answer} fine?', model='gpt-4o-mini', range=(0, 10))])\n"
        "assert sw.scores()['score'].notna().all(), sw.scores()\n"
        "print('jsonschema' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                         capture_output=True, text=True).stdout.split()
    assert out[-1] == "False"


def test_cells_are_graded_off_the_event_loop_as_their_batch_is_written(tmp_path: Path) -> None:
    """A python grader may block (a file, a subprocess): it runs on the log writer's thread,
    never in the event loop serving the cells in flight, and each cell's scores are in the
    log with the cell (one transaction), the cells taken from the log graded too."""
    import asyncio
    import threading

    seen: list[tuple[bool, str]] = []

    def where(answer: str, row: object) -> bool:
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        seen.append((in_loop, threading.current_thread().name))
        return True

    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    sw = pg.sweep(PROMPT, vars=VARS, scorers=[s.python(where, name="where")], progress=False)
    assert len(seen) == 2 and not any(in_loop for in_loop, _ in seen)
    assert all(name != threading.main_thread().name for _, name in seen)
    logged = pg.repository.query("SELECT count(*) AS n FROM scores s JOIN experiments e "
                                 "ON e.id = s.experiment_id")
    assert logged["n"][0] == 2 and sw.scores()["passed"].all()
    seen.clear()
    again = pg.sweep(PROMPT, vars=[*VARS, {"country": "Peru", "capital": "Lima"}],
                     scorers=[s.python(where, name="where")], progress=False)
    assert again.count("cached") == 2 and len(again.scores()) == 3
    assert len(seen) == 3 and not any(in_loop for in_loop, _ in seen)


def test_a_grader_that_fails_outright_costs_no_row_of_its_batch(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """Grading happens as the batch is written: a fault outside any one scorer (here the plan
    itself) gives each cell error scores, and the batch's cells are logged all the same."""
    from nbplayground.evaluation import ScoringPlan

    def broken(self: ScoringPlan, *args: object, **kwargs: object) -> None:
        raise MemoryError("the plan broke")

    monkeypatch.setattr(ScoringPlan, "score", broken)
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    sw = pg.sweep(PROMPT, vars=VARS, scorers=[s.contains("{capital}")], progress=False)
    assert sw.count("ok") == 2
    assert pg.repository.query("SELECT count(*) AS n FROM experiments")["n"][0] == 2
    logged = pg.repository.scores(sweep_id=sw.id)
    assert len(logged) == 2 and logged["score"].isna().all()
    assert logged["reason"].str.contains("MemoryError: the plan broke").all()
