"""What the panel needs from the Playground facade (a Protocol, so the ui imports no adapters)."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.results import Experiment


class Facade(Protocol):
    provider: str
    user: str
    prompts: Any  # pg.prompts: save, list, get, versions

    def models(self) -> pd.DataFrame: ...

    def default_model(self, provider: str | None = None) -> str: ...

    def prepare(self, prompt: Any, model: str | None = None, **kwargs: Any) -> Any: ...

    def preview(self, prompt: Any, model: str | None = None, **kwargs: Any) -> dict[str, Any]: ...

    def submit(self, prompt: Any, model: str | None = None, *,
               on_token: Callable[[str], None] | None = None, **kwargs: Any
               ) -> concurrent.futures.Future[Experiment]: ...

    def submit_sweep(self, prompts: Any, model: Any = None, *,
                     on_token: Callable[[int, str], None] | None = None,
                     on_cell: Callable[[int, Experiment], None] | None = None, **kwargs: Any
                     ) -> concurrent.futures.Future[Any]: ...

    def get(self, experiment_id: str) -> Experiment: ...

    def budget(self, needed: float | None = None) -> dict[str, Any]: ...

    def score(self, target: Any, scorers: Any = None, **kwargs: Any) -> Any: ...

    def history(self, limit: int | None = None, sweep: Any = None, *,
                search: str | None = None, model: str | None = None) -> pd.DataFrame: ...
