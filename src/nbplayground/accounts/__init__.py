"""User Management context: identity, API-key references, limits and the budget gate."""

from nbplayground.accounts.keys import fingerprint, scrub

__all__ = ["fingerprint", "scrub"]
