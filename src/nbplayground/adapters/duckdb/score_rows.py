"""Scores as rows of the scores table (the frame of nbplayground.evaluation, stamped now)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from nbplayground.evaluation import Score, scores_frame
from nbplayground.ids import utcnow


def score_rows(scores: Sequence[Score]) -> pd.DataFrame:
    """Scores as the scores table's rows, stamped now."""
    df = scores_frame(scores)
    df["created_at"] = pd.Series(pd.Timestamp(utcnow()), index=df.index,
                                 dtype="datetime64[us, UTC]")
    return df
