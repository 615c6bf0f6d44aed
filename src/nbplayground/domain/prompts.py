"""PromptVersion: one saved version of a named prompt (template or conversation turns, system,
model, request fields), identified by the hash of its content; and the diff of two versions."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from nbplayground.domain.conversation import (
    normalize_turns,
    turn_fields,
    turn_lines,
    turn_texts,
    turns_text,
)
from nbplayground.domain.fields import BY_NAME, PARAMETER_NAMES
from nbplayground.errors import InvalidPrompt
from nbplayground.ids import utcnow

__all__ = ["PromptVersion", "content_hash", "diff_versions", "template_fields"]


def _canonical(value: Any) -> str:
    """One text for one content: sorted keys, no spaces, tuples as lists, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def content_hash(template: str, system: str | None = None, model: str | None = None,
                 params: Mapping[str, Any] | None = None,
                 messages: Any = ()) -> str:
    """sha256 (hex) of the canonical JSON of template, system, model, params (and the turns,
    when the version is a conversation): the same content has the same hash whatever its
    name, version or author."""
    content: dict[str, Any] = {"template": template, "system": system, "model": model,
                               "params": dict(params or {})}
    if messages:  # versions without turns keep the hashes they were saved with
        content["messages"] = list(messages)
    blob = _canonical(content)
    return hashlib.sha256(blob.encode()).hexdigest()


def template_fields(template: str) -> list[str]:
    """The `{name}` fields a str.format template fills, in order ({name.attr} and {name[0]}
    as written); positional fields ({} or {0}) come back as "" or digits."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def _root(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


class PromptVersion(BaseModel):
    """A named prompt's version: what a prompt is when it is code. `model` and `params` are
    defaults a run's explicit arguments override."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: int = Field(default=1, ge=1)
    template: str = ""
    """A str.format template (the user message); for a conversation, its last user turn's
    text (derived from `messages` when not given)."""
    system: str | None = None
    model: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    """Request fields by their names in the field table (temperature, max_tokens, ...), as JSON."""
    messages: tuple[dict[str, Any], ...] = ()
    """A conversation template: turns {"role", "content": template | [parts]} (system,
    developer, user and assistant turns; image, audio and file parts) and {"placeholder":
    variable} for a whole conversation held in a variable. Empty: `template` is the prompt."""
    content_hash: str = ""
    """sha256 of the content (content_hash()); computed when not given, checked when given."""
    created_at: datetime = Field(default_factory=utcnow)
    author: str = ""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:  # the typed error, saying what to change
            raise InvalidPrompt("; ".join(
                f"{'.'.join(map(str, err['loc'])) or 'prompt'}: "
                f"{err['msg'].removeprefix('Value error, ')}" for err in e.errors())) from None

    @field_validator("name", "system", "model", "author")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("contains a NUL byte (\\x00); remove it")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip() or value != value.strip():
            raise ValueError(f"a prompt's name must be non-empty text without leading or "
                             f"trailing spaces, not {value!r}")
        return value

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("the template contains a NUL byte (\\x00); remove it")
        _check_format(value, "the template")
        return value

    @field_validator("messages", mode="before")
    @classmethod
    def _messages(cls, value: Any) -> Any:
        if value is None or (isinstance(value, list | tuple) and not value):
            return ()
        turns = normalize_turns(value)
        for text in turn_texts(turns):
            if "\x00" in text:
                raise ValueError("a turn contains a NUL byte (\\x00); remove it")
            _check_format(text, "a turn")
        return json.loads(_canonical(turns))  # stored as read back

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("model must be a model name or None, not an empty string")
        return value

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"params must be a dict of request fields, not {value!r}")
        unknown = sorted(set(map(str, value)) - set(PARAMETER_NAMES))
        if unknown:
            raise ValueError(f"unknown request field {unknown[0]!r}; the fields are "
                             f"{', '.join(PARAMETER_NAMES)}")
        given = {k: float(v) if BY_NAME[k].kind == "number" and type(v) is int else v
                 for k, v in value.items() if v is not None}  # 0 and 0.0: one content
        try:  # JSON in, JSON out: what is stored is what is read back (tuples become lists)
            return json.loads(_canonical(given))
        except (TypeError, ValueError) as e:
            raise ValueError(f"params must be JSON values (numbers, text, lists, dicts): {e}"
                             ) from None

    @model_validator(mode="after")
    def _hash(self) -> PromptVersion:
        if self.messages and not self.template.strip():
            object.__setattr__(self, "template", turns_text(self.messages))
        if not self.template.strip():
            raise ValueError("the template is empty; give the prompt's text")
        expected = content_hash(self.template, self.system, self.model, self.params,
                                self.messages)
        if not self.content_hash:
            object.__setattr__(self, "content_hash", expected)
        elif self.content_hash != expected:
            raise ValueError(f"content_hash {self.content_hash!r} does not match the content "
                             f"({expected!r}); leave content_hash out to compute it")
        return self

    @property
    def fields(self) -> list[str]:
        """The names the template (or the turns) fill ({country}): the columns vars= must
        have."""
        names = turn_fields(self.messages) if self.messages else template_fields(self.template)
        return list(dict.fromkeys(_root(f) for f in names))

    def render(self, variables: Mapping[str, Any] | None = None) -> str:
        """The template filled from `variables` (str.format: {{ is a literal brace); a
        conversation is filled by experimentation.conversations.render_turns."""
        given = {str(k): v for k, v in (variables or {}).items()}
        missing = [f for f in self.fields if f not in given]
        if missing:
            raise InvalidPrompt(f"{self} needs {', '.join(missing)}; the variables have "
                                f"{', '.join(given) or 'none'} (pass vars=)")
        try:
            return self.template.format(**given)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as e:
            raise InvalidPrompt(f"{self} could not be filled from the variables: {e!r}"
                                ) from None

    def same_content(self, other: PromptVersion) -> bool:
        return self.content_hash == other.content_hash

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


def _check_format(value: str, what: str) -> None:
    try:
        fields = template_fields(value)
    except ValueError as e:
        raise ValueError(f"{what} is not a valid format string ({e}); write a literal brace "
                         "as {{ or }}") from None
    if any(not f or _root(f).isdigit() for f in fields):
        raise ValueError(f"{what} has a positional field ({{}} or {{0}}); name it, as in "
                         "{country}, so vars= can fill it")


def _lines(text: str | None) -> list[str]:
    return [] if text is None else text.splitlines()


def _turns(v: PromptVersion) -> list[str]:
    return turn_lines(v.messages or ({"role": "user", "content": v.template},))


def _settings(v: PromptVersion) -> list[str]:
    lines = [f"model = {v.model}"] if v.model is not None else []
    return lines + [f"{k} = {_canonical(v.params[k])}" for k in sorted(v.params)]


def diff_versions(a: PromptVersion, b: PromptVersion, *, context: int = 3) -> str:
    """A unified diff (difflib) of two versions, section by section: template, system and
    parameters (the model among them). Empty when their content is the same."""
    out: list[str] = []
    turns = a.messages or b.messages
    for section, old, new in (("template", [] if turns else _lines(a.template),
                               [] if turns else _lines(b.template)),
                              ("messages", _turns(a) if turns else [],
                               _turns(b) if turns else []),
                              ("system", _lines(a.system), _lines(b.system)),
                              ("parameters", _settings(a), _settings(b))):
        if old == new:
            continue
        out += difflib.unified_diff(old, new, fromfile=f"{a} {section}",
                                    tofile=f"{b} {section}", n=context, lineterm="")
    return "\n".join(out)
