"""The facade's reports and charts: pg.compare(...), pg.report(...), DataFrames and figures."""

from __future__ import annotations


class AnalyticsFacade:
    """Mixed into Playground; methods use self.repository and self.user."""
