"""Usage Analytics context: token counts, prices, cost estimation, usage reports."""

from nbplayground.analytics.costs import CostEstimator
from nbplayground.analytics.ports import PriceTable, Tokenizer

__all__ = ["CostEstimator", "PriceTable", "Tokenizer"]
