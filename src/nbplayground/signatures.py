"""How the facade's methods read in help() and completion: signatures that say what they take."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from nbplayground.configuration.validation import CELL_OPTIONS
from nbplayground.domain.fields import PARAMETER_NAMES

F = TypeVar("F", bound=Callable[..., Any])


def like(part: Callable[..., Any]) -> Callable[[F], F]:
    """A delegating method reads (help(), signature) as the collaborator's it calls."""
    def mark(method: F) -> F:
        method.__doc__ = part.__doc__
        method.__wrapped__ = part  # type: ignore[attr-defined]
        return method

    return mark


def with_fields(method: Callable[..., Any]) -> None:
    """help(pg.run) and a notebook's completion list every request field by name, from the
    field table, instead of **fields."""
    sig = inspect.signature(method)
    kept = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
             for n in (*PARAMETER_NAMES, *CELL_OPTIONS)]
    method.__signature__ = sig.replace(parameters=kept + extra)  # type: ignore[attr-defined]
