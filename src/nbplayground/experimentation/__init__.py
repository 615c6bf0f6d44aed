"""Experimentation context (core): experiments, the service that runs them, and sweeps."""

from nbplayground.experimentation.cell import Cell
from nbplayground.experimentation.ports import ChatClient, ExperimentRepository
from nbplayground.experimentation.retry import RetryPolicy
from nbplayground.experimentation.service import ExperimentService, Outcome

__all__ = ["Cell", "ChatClient", "ExperimentRepository", "ExperimentService", "Outcome",
           "RetryPolicy"]
