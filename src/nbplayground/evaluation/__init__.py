"""Evaluation context: scorers as columns of a sweep (pure: no I/O, nothing sent from here)."""

from nbplayground.evaluation.judges import Judge, Label, ModelGrader
from nbplayground.evaluation.ports import Embedder
from nbplayground.evaluation.score import Grade, InvalidScorer, MetricUnavailable, Score
from nbplayground.evaluation.scorers import Scorer
from nbplayground.evaluation.service import ScoringPlan, as_scorers, scores_frame, widen
from nbplayground.evaluation.templates import Answer, Template

__all__ = ["Answer", "Embedder", "Grade", "InvalidScorer", "Judge", "Label", "MetricUnavailable",
           "ModelGrader", "Score", "Scorer", "ScoringPlan", "Template", "as_scorers",
           "scores_frame", "widen"]
