"""nbplayground: the OpenAI Playground inside Jupyter, with a memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.errors import (
    AuthenticationFailed,
    BudgetExceeded,
    ConfigurationError,
    ContextWindowExceeded,
    InvalidInput,
    InvalidParameter,
    InvalidPrompt,
    NbPlaygroundError,
    NotAuthorized,
    PromptNotFound,
    ProviderError,
    RateLimited,
    StoreError,
    StoreLocked,
)

if TYPE_CHECKING:
    from nbplayground.configuration import Endpoint
    from nbplayground.domain.prompts import PromptVersion
    from nbplayground.playground import Playground
    from nbplayground.results import Experiment

__version__ = "0.1.0"

__all__ = [
    "AuthenticationFailed",
    "BudgetExceeded",
    "ConfigurationError",
    "ContextWindowExceeded",
    "Endpoint",
    "Experiment",
    "InvalidInput",
    "InvalidParameter",
    "InvalidPrompt",
    "NbPlaygroundError",
    "NotAuthorized",
    "Playground",
    "PromptNotFound",
    "PromptVersion",
    "ProviderError",
    "RateLimited",
    "StoreError",
    "StoreLocked",
]

_LAZY = {
    "Playground": "nbplayground.playground",
    "Experiment": "nbplayground.results",
    "Endpoint": "nbplayground.configuration",
    "PromptVersion": "nbplayground.domain.prompts",
}


def __getattr__(name: str) -> Any:
    # Heavy imports (pydantic models, pandas, SDKs) wait until they are used.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nbplayground' has no attribute {name!r}")
