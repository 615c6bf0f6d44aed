"""The demo notebooks run top to bottom with no key (local model, else simulated), as committed."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_the_demos_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01-playground.ipynb", "02-parameter-sweep.ipynb",
                                          "03-costs-and-budgets.ipynb", "04-api-code.ipynb",
                                          "05-evaluate.ipynb", "06-from-openai-evals.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert len(nb.cells) <= 12
    assert "widgets" not in nb.metadata  # no saved widget state


def markdown(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "markdown")


@pytest.mark.parametrize("path", [*NOTEBOOKS[:3], *NOTEBOOKS[4:]], ids=lambda p: p.stem)
def test_the_demos_on_the_local_model_say_it_is_tiny(path: Path) -> None:
    text = markdown(path)
    assert "SmolLM2" in text and "tiny model" in text


def test_the_sweep_demo_promises_no_more_models_than_it_compares() -> None:
    text = markdown(NOTEBOOKS[1]).lower()
    assert "across models" not in text and "two settings" in text


def execute(path: Path, folder: Path) -> float:
    """Run the notebook in a fresh python3 kernel (this venv's); seconds taken."""
    before = set(path.parent.iterdir())
    if (path.parent / "data").is_dir():  # what a notebook reads, beside it as in a checkout
        shutil.copytree(path.parent / "data", folder / "data")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(folder)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    took = time.perf_counter() - started
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    assert set(path.parent.iterdir()) == before  # the log went to NBPLAYGROUND_DB, not here
    print(f"{path.name}: {took:.1f} s")
    return took


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_without_a_key(path: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "demo.duckdb"
    monkeypatch.setenv("NBPLAYGROUND_DB", str(log))  # the kernel inherits this environment
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    execute(path, tmp_path)  # its time is printed; a hung cell fails at the client's timeout
    assert log.exists()
    if path.name.startswith("02"):
        with duckdb.connect(str(log), read_only=True) as conn:
            settings, cut, n, lengths = conn.execute(
                "SELECT count(DISTINCT (model, system)), count_if(finish_reason = 'length'), "
                "count(*), list(DISTINCT completion_tokens) FROM experiments").fetchone() \
                or (0, 0, 0, [])
        assert settings >= 2  # two models, or two settings of one: something to compare
        # the token chart measures the answers, not the max_tokens cap (sampled answers at
        # temperature 1 may still run long once in a while)
        assert cut * 6 <= n
        assert len(lengths) > 2
    if path.name.startswith("05"):
        with duckdb.connect(str(log), read_only=True) as conn:
            judged, ok, parsed, scored = conn.execute(
                "SELECT count(DISTINCT judged_experiment_id), count_if(role = 'judge' AND "
                "status = 'ok'), count_if(role = 'judge' AND status = 'ok' AND parsed IS NOT "
                "NULL), (SELECT count(DISTINCT scorer) FROM scores) FROM experiments"
                ).fetchone() or (0, 0, 0, 0)
        assert judged == 8  # every cell judged
        # a verdict given is never asked again (only a failed judge call is, when scoring
        # again), and each one was read through the schema
        assert ok <= 8 and parsed == ok
        assert scored == 5  # four scorers, and exact when scoring again


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_with_a_key(path: Path, tmp_path: Path, stub: OpenAIStub,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The same notebooks on the OpenAI path: a key and an OpenAI-compatible endpoint."""
    monkeypatch.setenv("NBPLAYGROUND_DB", str(tmp_path / "demo.duckdb"))
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
    execute(path, tmp_path)  # its time is printed; a hung cell fails at the client's timeout
    assert stub.count("/v1/chat/completions") > 0
    models = {r.body["model"] for r in stub.requests
              if r.path == "/v1/chat/completions"}
    assert models <= {"gpt-4o-mini", "gpt-4.1-nano"}
