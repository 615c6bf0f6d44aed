"""References as templates: {answer}, {answer.field} (of the JSON answer), {sample.name} (the
answer as OpenAI's graders see it: output_tools, choices, ...) and {column} of vars (nested:
{column.field} reads a field of a dict in that column)."""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nbplayground.evaluation.score import InvalidScorer

_UNSET = object()
_JSON_SPACE = " \t\n\r"
_JSON_STARTS = frozenset('{["-0123456789tfnNI')
"""What a JSON text may start with after its whitespace (Python's json reads NaN, Infinity)."""
SAMPLE_NAMES = ("output_text", "output_json", "output_tools", "choices")
"""The sample namespace of OpenAI's grader templates, as {sample.<name>}."""


@dataclass(slots=True)
class Answer:
    """What scorers read of one experiment; the JSON parse is done once, when first asked."""

    text: str
    row: Mapping[str, Any] = field(default_factory=dict)
    cost: float | None = None
    latency_ms: float | None = None
    ok: bool = True
    error: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    """The calls the model made: {id, name, arguments} each."""
    _parsed: Any = _UNSET

    @property
    def parsed(self) -> Any:
        """The answer as JSON; raises ValueError when it is not JSON."""
        why = self.not_json()
        if why is not None:
            raise ValueError(why)
        return self._parsed

    def not_json(self) -> str | None:
        """Why the answer is not JSON (None: it is), without raising."""
        if self._parsed is _UNSET:
            text = self.text
            start = len(text) - len(text.lstrip(_JSON_SPACE))
            if (start == len(text) or text[start] not in _JSON_STARTS) \
                    and not text.startswith("\ufeff"):
                # Prose (most answers): json.loads would raise this very error, but raising
                # and catching it costs ~3 µs an answer, a third of a sweep's scoring. Prose
                # from its first character (most of it) has one reason, made once.
                why = _PROSE if not start else _NotJson(
                    json.JSONDecodeError("Expecting value", text, start))
                self._parsed = why
                return why
            try:
                self._parsed = json.loads(text)
            except ValueError as e:
                # Its message alone: the error's traceback and context hold this frame, so
                # this Answer, in a cycle that only a garbage collection frees (~20 objects
                # per answer that is not JSON; a 10,000-cell sweep's collection took 0.4 s).
                self._parsed = _NotJson(e)
        parsed = self._parsed
        return parsed if isinstance(parsed, _NotJson) else None


class _NotJson(str):
    """Why an answer is not JSON, in json's own words (a str: the parse's outcome is either
    this or the parsed value, which is never of this type)."""

    def __new__(cls, error: ValueError) -> _NotJson:
        return super().__new__(cls, f"the answer is not JSON ({error})")


_PROSE = _NotJson(json.JSONDecodeError("Expecting value", "", 0))
"""The reason of an answer whose first character cannot start JSON."""


@dataclass(frozen=True)
class Template:
    """A parsed template; `columns` are the vars it needs, `literal` when it names nothing."""

    text: str
    parts: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, text: Any, what: str = "reference") -> Template:
        if not isinstance(text, str):
            raise InvalidScorer(f"{what} must be a string (a template such as '{{capital}}'), "
                                f"not {type(text).__name__}")
        try:
            pieces = list(string.Formatter().parse(text))
        except ValueError as e:
            raise InvalidScorer(f"{what} {text!r} is not a valid template ({e}); write a "
                                "literal brace as {{ or }}") from None
        parts: list[tuple[str, str | None]] = []
        for literal, name, spec, conversion in pieces:
            if name is not None and (spec or conversion):
                raise InvalidScorer(f"{what} {text!r}: write {{{name}}} without a format spec "
                                    "or conversion")
            if name is not None and not name.strip():
                raise InvalidScorer(f"{what} {text!r} has an empty {{}}; name a column of vars "
                                    "or {answer}")
            parts.append((literal, name))
        return cls(text, tuple(parts))

    @property
    def names(self) -> list[str]:
        return [n for _, n in self.parts if n is not None]

    @property
    def columns(self) -> set[str]:
        """The vars columns this template reads ({answer...} is not one); {a.b} reads a."""
        return {n.split(".")[0] for n in self.names
                if n != "answer" and not n.startswith(("answer.", "sample."))}

    def renderer(self) -> Callable[[Answer], str]:
        """`render` as a function; a template that is one name alone (the usual "{capital}")
        looks it up without joining pieces."""
        if len(self.parts) == 1 and self.parts[0][0] == "" and self.parts[0][1] is not None:
            name = self.parts[0][1]
            if name == "answer" or name.startswith(("answer.", "sample.")):
                return lambda answer: _text(_lookup(name, answer))

            def column(answer: Answer) -> str:  # a column of vars: read at once if it is one
                row = answer.row
                return _text(row[name] if name in row else _lookup(name, answer))

            return column
        return self.render

    def render(self, answer: Answer) -> str:
        out: list[str] = []
        for literal, name in self.parts:
            out.append(literal)
            if name is not None:
                out.append(_text(_lookup(name, answer)))
        return "".join(out)


def _lookup(name: str, answer: Answer) -> Any:
    if name == "answer":
        return answer.text
    if name.startswith("answer."):
        value = answer.parsed
        for key in name.split(".")[1:]:
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                raise ValueError(f"the JSON answer has no field {name[len('answer.'):]!r}")
        return value
    if name.startswith("sample.") and name.split(".")[1] in SAMPLE_NAMES:
        # A path the answer lacks (no tool was called) is empty text: the check then fails
        # with its own reason rather than erring.
        found, value = resolve(sample_of(answer), name.removeprefix("sample."))
        return value if found else ""
    found, value = resolve(answer.row, name)
    if not found:
        raise ValueError(f"this cell's vars have no column {name!r}")
    return value


def sample_of(answer: Answer) -> dict[str, Any]:
    """The `sample` namespace of OpenAI's graders for one answer: output_text, output_json
    (None when the answer is not JSON), output_tools and choices in Chat's shape."""
    try:
        output_json: Any = answer.parsed
    except ValueError:
        output_json = None
    tools = [{"id": c.get("id", ""), "type": "function",
              "function": {"name": c.get("name", ""),
                           "arguments": json.dumps(c.get("arguments", {}))}}
             for c in answer.tool_calls]
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if tools:
        message["tool_calls"] = tools
    return {"output_text": answer.text, "output_json": output_json, "output_tools": tools,
            "choices": [{"index": 0, "finish_reason": "tool_calls" if tools else "stop",
                         "message": message}]}


def resolve(row: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    """(found, value) of `name` in a vars row: a column, else a dotted path into the dicts
    and lists of a column ({meta.lang}, {turns.0}); a column named with dots wins."""
    if name in row:
        return True, row[name]
    value: Any = row
    for key in name.split("."):
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list | tuple) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return False, None
    return True, value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list) or value is None or isinstance(value, bool):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
