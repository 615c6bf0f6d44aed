"""The DuckDB adapter's package: small rooms, one owner of process-wide state and its fork hook,
no private names shared between rooms, and a child forked while the parent held its locks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nbplayground.adapters as adapters
from nbplayground.adapters.duckdb import DuckDBExperimentRepository

ADAPTERS = Path(adapters.__file__).parent
PACKAGE = ADAPTERS / "duckdb"
MODULES = sorted(PACKAGE.glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_each_room_is_small_and_says_what_it_holds(module: Path) -> None:
    source = module.read_text()
    assert len(source.splitlines()) < 300
    assert ast.get_docstring(ast.parse(source))


def test_only_the_state_module_registers_a_fork_hook() -> None:
    hooks = sorted(p.relative_to(ADAPTERS).as_posix() for p in ADAPTERS.rglob("*.py")
                   if "register_at_fork" in p.read_text())
    assert hooks == ["duckdb/state.py"]


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_room_imports_a_private_name_of_another(module: Path) -> None:
    private = [f"{node.module}.{alias.name}"
               for node in ast.walk(ast.parse(module.read_text()))
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nbplay")
               for alias in node.names if alias.name.startswith("_")]
    assert private == []


def test_the_ledger_is_composed_not_derived() -> None:
    tree = ast.parse((PACKAGE / "ledger.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "nbplayground.adapters.duckdb.experiments" not in imported


FORK_HOLDING_LOCKS = """
import os, sys
from nbplayground.adapters.duckdb import DuckDBExperimentRepository, state
from tests.factories import make_experiment
parent = DuckDBExperimentRepository(sys.argv[1])
parent.add([make_experiment()])
with parent.log.lock, state.migration_lock():  # as if another thread were mid-batch
    pid = os.fork()
    if pid == 0:  # the child logs to the same file and migrates a new one
        parent.add([make_experiment()])
        DuckDBExperimentRepository(sys.argv[2]).add([make_experiment()])
        os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_child_forked_while_its_parent_held_the_locks_gets_its_own(tmp_path: Path) -> None:
    first, second = tmp_path / "first.duckdb", tmp_path / "second.duckdb"
    done = subprocess.run([sys.executable, "-c", FORK_HOLDING_LOCKS, str(first), str(second)],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(DuckDBExperimentRepository(first).list()) == 2
    assert len(DuckDBExperimentRepository(second).list()) == 1
