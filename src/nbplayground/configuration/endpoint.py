"""Endpoint: an OpenAI-compatible server (OpenAI itself, Ollama, vLLM, LM Studio, llama.cpp)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator


class Endpoint(BaseModel):
    """Where to send chat completions; the key is a SecretStr so it never prints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    api_key: SecretStr | None = None
    name: str = "openai"
    timeout: float = 120.0

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return v.rstrip("/")
