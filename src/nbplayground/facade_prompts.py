"""The facade's prompts collaborator (pg.prompts: save, list, get, versions, diff), and how a
saved PromptVersion stands in for a prompt in pg.run, pg.preview and the panel."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbplayground.domain.prompts import PromptVersion
from nbplayground.errors import InvalidInput
from nbplayground.experimentation.conversations import render_turns
from nbplayground.experimentation.prompts import PromptLibrary

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.experimentation.prompts import PromptRepository
    from nbplayground.wiring import Wiring

LIST_COLUMNS = ["name", "latest_version", "versions", "model", "template", "system",
                "params", "content_hash", "created_at", "author", "messages"]


class Prompts:
    """`pg.prompts`: the current user's prompts as versioned code, kept in the log."""

    def __init__(self, wiring: Wiring, user: str) -> None:
        self._w = wiring
        self.user = user
        self._library: PromptLibrary | None = None

    @property
    def library(self) -> PromptLibrary:
        if self._library is None:
            from nbplayground.adapters import log_location

            store: PromptRepository = log_location.open_prompts(self._w.db,
                                                                self._w.repository)
            self._library = PromptLibrary(store, self.user)
        return self._library

    def __repr__(self) -> str:
        return f"<prompts of {self.user} in {self._w.db}: pg.prompts.list()>"

    def save(self, name: str, template: str | None = None, system: str | None = None,
             model: str | None = None, *, messages: Any = None, **params: Any
             ) -> PromptVersion:
        """Save a prompt as code: `template` is a str.format template ({country} is filled
        from vars=), `params` request fields (temperature=0, max_tokens=...). `messages=`
        saves a conversation instead: turns {"role", "content"} (system, developer, user,
        assistant; content a template or parts such as {"type": "input_image", "image_url":
        "{url}"}) and {"placeholder": "history"} for a conversation held in a variable. The
        same content again returns the version that has it; new content is the next one."""
        return self.library.save(name, template, system, model, messages=messages, **params)

    def list(self) -> pd.DataFrame:
        """One row per prompt: its newest version (template, system, model, params) and how
        many versions it has."""
        import pandas as pd

        rows: dict[str, dict[str, Any]] = {}
        for v in self.library.all():
            row = rows.setdefault(v.name, {"versions": 0})
            row.update(name=v.name, latest_version=v.version, versions=row["versions"] + 1,
                       model=v.model, template=v.template, system=v.system, params=v.params,
                       content_hash=v.content_hash, created_at=v.created_at, author=v.author,
                       messages=list(v.messages) or None)
        return pd.DataFrame(list(rows.values()), columns=LIST_COLUMNS)

    def get(self, name: str, version: int | None = None) -> PromptVersion:
        """Version `version` of prompt `name` (the newest when None)."""
        return self.library.get(name, version)

    def versions(self, name: str) -> builtins.list[PromptVersion]:
        """Every version of `name`, oldest first: pg.sweep(pg.prompts.versions(name), ...)
        runs each of them as an axis of the sweep."""
        return self.library.versions(name)

    def diff(self, name: str, a: int, b: int) -> str:
        """A unified diff of versions `a` and `b` of `name`: template, system, parameters."""
        return self.library.diff(name, a, b)


def unpack(prompt: Any, model: str | None, system: str | None, params: dict[str, Any]
           ) -> tuple[Any, str | None, str | None, dict[str, Any], PromptVersion | None]:
    """A run's arguments with a PromptVersion for a prompt: its template filled from vars=,
    its model, system and request fields as defaults that the explicit arguments override.
    Any other prompt comes back as it is (vars= fills a string template too)."""
    variables = params.pop("vars", None)
    if variables is not None and not isinstance(variables, Mapping):
        raise InvalidInput(f"vars must be a dict of the template's fields (one row), not "
                           f"{type(variables).__name__}; a sweep takes a DataFrame")
    if not isinstance(prompt, PromptVersion):
        if variables is not None and isinstance(prompt, str):
            prompt = PromptVersion(name="prompt", template=prompt).render(variables)
        elif variables is not None and isinstance(prompt, list | tuple) and prompt:
            prompt = render_turns(_turns(prompt), variables)
        return prompt, model, system, params, None
    given = {k: v for k, v in params.items() if v is not None}
    filled: Any = render_turns(prompt.messages, variables) if prompt.messages \
        else prompt.render(variables)
    return (filled, model or prompt.model,
            prompt.system if system is None else system, {**prompt.params, **given}, prompt)


def _turns(conversation: Any) -> tuple[dict[str, Any], ...]:
    from nbplayground.domain.conversation import normalize_turns

    try:
        return normalize_turns(list(conversation), "the conversation")
    except ValueError as e:
        raise InvalidInput(str(e)) from None


def panel_initial(initial: dict[str, Any]) -> dict[str, Any]:
    """pg.panel(prompt=version): the version's template, system, model and fields on screen
    (what else is given wins), to edit and run."""
    source = initial.get("prompt")
    if not isinstance(source, PromptVersion):
        return initial
    given = {k: v for k, v in initial.items() if v is not None and k != "prompt"}
    return {**({"model": source.model} if source.model else {}),
            **({"system": source.system} if source.system is not None else {}),
            **source.params, "prompt": source.template, **given}
