"""The spec's User: identity and where the key comes from, never the key itself."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class User(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    email: str | None = None
    subscription_type: str | None = None
    """None: the user chose no plan, so no plan limits apply."""
    token_usage: int = 0
    api_key_ref: str | None = None
    """Where the key is read from ("env:OPENAI_API_KEY", "keyring", "file:..."), not the key."""
    api_key_fingerprint: str | None = None
    """e.g. "sk-…abcd": enough to recognise a key, useless to use one."""
    role: str = "user"
