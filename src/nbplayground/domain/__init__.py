"""The spec's entities and value objects, free of I/O: what every context shares."""

from nbplayground.domain.experiment import (
    Experiment,
    ExperimentStatus,
    ImageRef,
    TokenLogprob,
    ToolCall,
)
from nbplayground.domain.messages import Message, Role, as_messages
from nbplayground.domain.metrics import ResponseMetrics
from nbplayground.domain.parameters import ModelParameters
from nbplayground.domain.request import APIRequest, ChatRequest, ChatResult
from nbplayground.domain.user import User

__all__ = [
    "APIRequest",
    "ChatRequest",
    "ChatResult",
    "Experiment",
    "ExperimentStatus",
    "ImageRef",
    "Message",
    "ModelParameters",
    "ResponseMetrics",
    "Role",
    "TokenLogprob",
    "ToolCall",
    "User",
    "as_messages",
]
