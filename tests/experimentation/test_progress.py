"""The sweep progress bar: a fully cached re-run shows no empty "0/0" bar."""

from __future__ import annotations

from typing import Any

import pytest


def test_a_fully_cached_rerun_shows_one_line_and_no_bar(
        make_pg: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pg = make_pg(provider="simulated")
    pg.sweep(["a", "b"], temperature=[0.1, 0.9])
    first = capsys.readouterr()
    assert "4/4" in first.err  # the first run's bar (tqdm writes to stderr outside notebooks)
    again = pg.sweep(["a", "b"], temperature=[0.1, 0.9])
    assert again.count("cached") == 4
    shown = capsys.readouterr()
    assert "0/0" not in shown.err + shown.out
    assert "nothing to send, all 4 cells are in the log already" in shown.out
