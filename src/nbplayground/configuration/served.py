"""What a compatible server serves: the model to default to, and which model wrote an answer."""

from __future__ import annotations

from nbplayground.configuration.catalog import DEFAULT_MODEL


def listed_default(provider: str, listed: list[str]) -> str:
    """The model to run when none is named on a server that lists `listed` (GET /v1/models):
    the provider's usual default when the server has it, else the first it lists, else the
    usual default (a server that lists nothing may still answer)."""
    usual = DEFAULT_MODEL[provider]
    if usual in listed or not listed:
        return usual
    return listed[0]


def answered_model(said: str | None, asked: str, served: list[str]) -> str | None:
    """Which model wrote an answer: the one the response names when the server serves it
    (or a dated snapshot of one it serves), else a server's only model. llama.cpp's server
    names whatever model was asked for and answers with its one file, whatever the name."""
    name = said or asked
    if not served or name in served or any(name.startswith(s + "-") for s in served):
        return said
    return served[0] if len(served) == 1 else said
