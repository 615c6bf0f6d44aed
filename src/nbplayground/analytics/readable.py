"""Report frames that read well: figures rounded for people, texts whole, dollars left alone.

The values stay exact (a report is data for the next cell); only what a notebook shows of them is
rounded: pandas printed a latency of "3314.175471" ms, cut every answer at 50 characters with
"…" (so two answers and their diff could not be read side by side), and JupyterLab's MathJax
typeset the text between two dollars as math.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

Formatter = Callable[[Any], str]


def _fixed(decimals: int) -> Formatter:
    def fmt(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return f"{value:,.{decimals}f}"

    return fmt


def _usd(value: Any) -> str:
    """Costs of single calls are millionths of a dollar: three significant figures."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value == 0:
        return "0"
    if abs(value) >= 0.01:
        return f"{value:,.4f}"
    return f"{value:.{2 - math.floor(math.log10(abs(value)))}f}"


def formatter(column: str) -> Formatter:
    """How a float column of a report reads, by its name."""
    name = column.lower()
    if "cost" in name or name in ("spent", "usd"):
        return _usd
    if "_ms" in name:  # latency_ms_mean, p50_ms: whole milliseconds
        return _fixed(0)
    if "ratio" in name:
        return _fixed(3)
    return _fixed(1)


class Report(pd.DataFrame):
    """A pandas DataFrame (exact values) whose notebook display is rounded and uncut."""

    @property
    def _constructor(self) -> Callable[..., Report]:
        return Report

    def _formatters(self) -> dict[Any, Formatter]:
        return {c: formatter(str(c)) for c, dtype in self.dtypes.items()
                if pd.api.types.is_float_dtype(dtype)}

    def _repr_html_(self) -> str:
        with pd.option_context("display.max_colwidth", None):
            text = self.to_html(formatters=self._formatters(),
                                max_rows=pd.get_option("display.max_rows"),
                                max_cols=pd.get_option("display.max_columns"))
        # each "$" in an element of its own: MathJax pairs dollars only within one text run
        return text.replace("$", "<span>$</span>")

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None):
            return self.to_string(formatters=self._formatters(),
                                  max_rows=pd.get_option("display.max_rows"))


def readable(frame: pd.DataFrame) -> Report:
    """`frame` as a Report, without copying its data."""
    return frame if isinstance(frame, Report) else Report(frame, copy=False)
