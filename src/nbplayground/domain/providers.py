"""The providers, described once: billed? priced? runs in the kernel? needs a key?"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    name: str
    billed: bool
    """Its answers cost money: budgets count them and reports add them to spend."""
    priced: bool
    """A run gets a price from the price table; for an unbilled provider that is what the same
    answer *would cost* on the model it names (simulated), never spend."""
    in_kernel: bool
    """It answers inside this Python process: nothing leaves the machine."""
    needs_key: bool
    """It needs an API key (the public OpenAI API; a compatible server may accept none)."""


PROVIDERS: dict[str, Provider] = {p.name: p for p in (
    Provider("openai", billed=True, priced=True, in_kernel=False, needs_key=True),
    Provider("local", billed=False, priced=False, in_kernel=True, needs_key=False),
    Provider("simulated", billed=False, priced=True, in_kernel=True, needs_key=False),
)}
NAMES = tuple(PROVIDERS)
UNBILLED = frozenset(p.name for p in PROVIDERS.values() if not p.billed)


def billed(provider: str | None) -> bool:
    """OpenAI and any OpenAI-compatible endpoint bill (an unknown name is assumed to)."""
    known = PROVIDERS.get(provider or "")
    return known is None or known.billed


def priced(provider: str | None) -> bool:
    known = PROVIDERS.get(provider or "")
    return known is None or known.priced


def sql_billed(column: str = "provider") -> str:
    """The same rule as `billed`, as a DuckDB expression over a provider column."""
    names = ", ".join(f"'{p}'" for p in sorted(UNBILLED))
    return f"(coalesce({column}, '') NOT IN ({names}))"
