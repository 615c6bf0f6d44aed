"""Endpoint: an OpenAI-compatible server (OpenAI itself, Ollama, vLLM, LM Studio, llama.cpp)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from nbplayground.errors import InvalidInput


class Endpoint(BaseModel):
    """Where to send chat completions; the key is a SecretStr so it never prints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    api_key: SecretStr | None = None
    name: str = "openai"
    timeout: float = 120.0

    def __init__(self, **data: Any) -> None:
        # The README promises NbPlaygroundErrors only: pydantic's own error stays inside.
        problems = ""
        try:
            super().__init__(**data)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'Endpoint'}: "
                                 f"{err['msg'].removeprefix('Value error, ')}"
                                 for err in e.errors())
        if problems:  # raised outside the except: no pydantic error chained to it
            raise InvalidInput(f"Endpoint(...) is not valid: {problems}")

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        example = "e.g. 'http://localhost:8080/v1'"
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, {example}; "
                             f"not {v!r}")
        try:
            parts = urlsplit(v)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError(f"base_url {v!r} is not a URL, {example}") from None
        if not parts.hostname or any(c.isspace() for c in v):
            raise ValueError(f"base_url {v!r} has no host name (or contains spaces), {example}")
        return v.rstrip("/")

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {v!r}")
        return v
