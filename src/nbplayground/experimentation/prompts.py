"""Saved prompts: the PromptRepository port and PromptLibrary, which versions a user's prompts
(same content, same version; new content, the next one) and finds them by name and version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from nbplayground.configuration import lookup
from nbplayground.configuration.validation import check_field, refusal
from nbplayground.domain.fields import BY_NAME
from nbplayground.domain.prompts import PromptVersion, diff_versions
from nbplayground.errors import InvalidInput, InvalidParameter, PromptNotFound


class PromptRepository(Protocol):
    """Where prompt versions are kept; each call is one transaction."""

    def save(self, draft: PromptVersion) -> PromptVersion:
        """The version of `draft.author`'s prompt `draft.name` whose content_hash is draft's,
        when there is one; else `draft` stored as the next version (1 for a new name), under
        a lock so that two writers never take one number. draft.version is not read."""
        ...

    def versions(self, user_id: str, name: str | None = None) -> list[PromptVersion]:
        """`user_id`'s versions (of `name`, or of every prompt), by name then version."""
        ...


def check_params(model: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """Request fields checked against the field table (and `model`'s limits when it is
    given), in the JSON form they are stored in; InvalidParameter names what to change."""
    spec = lookup(model or "any-model")  # no model: a permissive one, like an unknown name
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        f = BY_NAME.get(name)
        if f is None:
            raise InvalidParameter(f"unknown request field {name!r}; the fields are "
                                   f"{', '.join(BY_NAME)}", parameter=name, value=value)
        if model is not None and name not in spec.accepts:
            raise InvalidParameter(f"{refusal(f, spec)}; leave {name} out of the prompt",
                                   parameter=name, value=value)
        out[name] = check_field(f, value, spec)
    return out


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"a prompt's name must be a non-empty string, not {name!r}")
    return name


class PromptLibrary:
    """A user's saved prompts over a PromptRepository."""

    def __init__(self, repository: PromptRepository, user: str) -> None:
        self.repository = repository
        self.user = user

    def save(self, name: str, template: str | None = None, system: str | None = None,
             model: str | None = None, *, messages: Any = None, **params: Any
             ) -> PromptVersion:
        if template is None and messages:
            template = ""  # the version shows its last user turn
        if messages is not None and not isinstance(messages, list | tuple):
            raise InvalidInput(f"messages must be a list of {{'role', 'content'}} turns, not "
                               f"{type(messages).__name__}")
        if not isinstance(template, str):
            raise InvalidInput(f"template must be a string (a str.format template such as "
                               f"'Capital of {{country}}?'), not {type(template).__name__}")
        for what, value in (("system", system), ("model", model)):
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{what} must be a string or None, not {value!r}")
        draft = PromptVersion(name=_name(name), template=template, system=system, model=model,
                              messages=messages or (), params=check_params(model, params),
                              author=self.user)
        return self.repository.save(draft)

    def versions(self, name: str) -> list[PromptVersion]:
        found = self.repository.versions(self.user, _name(name))
        if not found:
            raise PromptNotFound(self._no_such(name))
        return found

    def get(self, name: str, version: int | None = None) -> PromptVersion:
        """Version `version` of `name`; the newest when None."""
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidInput(f"version must be a whole number or None (the newest), not "
                               f"{version!r}")
        found = self.versions(name)
        if version is None:
            return found[-1]
        for v in found:
            if v.version == version:
                return v
        raise PromptNotFound(f"prompt {name!r} has no version {version}; its versions are "
                             f"{', '.join(str(v.version) for v in found)}")

    def diff(self, name: str, a: int, b: int) -> str:
        return diff_versions(self.get(name, a), self.get(name, b))

    def all(self) -> list[PromptVersion]:
        """Every version of every prompt of the user, by name then version."""
        return self.repository.versions(self.user)

    def _no_such(self, name: str) -> str:
        names = sorted({v.name for v in self.repository.versions(self.user)})
        known = f"the saved prompts are {', '.join(map(repr, names))}" if names \
            else "none is saved yet: pg.prompts.save(name, template, ...)"
        return f"no prompt named {name!r} for {self.user}; {known}"

