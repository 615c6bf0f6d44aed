"""Making a Playground: its settings checked before anything is built, a missing OpenAI key
said at once, and every open Playground closed at interpreter exit."""

from __future__ import annotations

import atexit
import contextlib
import os
import weakref
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from nbplayground.accounts import current_user
from nbplayground.adapters import log_location
from nbplayground.domain.providers import PROVIDERS
from nbplayground.errors import InvalidInput, MissingApiKey
from nbplayground.facade_accounts import no_key_message
from nbplayground.settings import Settings, check_log_path
from nbplayground.wiring import LIVE

if TYPE_CHECKING:
    from nbplayground.wiring import Wiring


def settings_for(db: Any, user: str | None, provider: Any, base_url: str | None,
                 simulated_latency: float) -> Settings:
    """The Playground's arguments validated (NbPlaygroundError, never pydantic's own)."""
    if db is not None and not isinstance(db, str | os.PathLike):
        raise InvalidInput(f"db must be a file path (str or Path), not {type(db).__name__}")
    try:
        settings = Settings(
            db=log_location.location(
                db or os.environ.get("NBPLAYGROUND_DB") or "nbplayground.duckdb"),
            user=current_user(user), provider=provider, base_url=base_url,
            simulated_latency=simulated_latency)
    except ValidationError as e:
        raise InvalidInput("; ".join(err["msg"] for err in e.errors())) from None
    check_log_path(settings.db)
    return settings


def check_openai_key(w: Wiring, provider: str) -> None:
    """OpenAI's public API refuses every request without a key: say so now, send nothing."""
    if provider == "openai" and PROVIDERS["openai"].needs_key and \
            w.settings.base_url_for_openai() is None and not w.has_key():
        raise MissingApiKey(no_key_message(w))



_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()


def opened(pg: Any) -> None:
    """`pg` is closed at interpreter exit unless it is closed (or collected) before."""
    _OPEN.add(pg)


@atexit.register
def _close_all() -> None:
    # A notebook never calls close(): say goodbye to the servers before the interpreter goes,
    # not in a garbage collector's warning at exit.
    for pg in list(_OPEN):
        with contextlib.suppress(Exception):
            pg.close()
    # A warm-up still in DuckDB or tiktoken as the interpreter exits (its Playground collected,
    # never closed) would be killed inside native code, and the process would abort.
    for wiring in list(LIVE):
        wiring.warmed(10)
