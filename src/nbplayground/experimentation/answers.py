"""What an answer brought back, read strictly: the parsed object, tool calls, token logprobs.

An answer that does not follow the requested schema is an error row with the validation
message (never an exception from a sweep); nothing here is scraped from prose.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from nbplayground.domain import ChatResult, TokenLogprob, ToolCall
from nbplayground.experimentation.cell import Cell


@dataclass(frozen=True)
class Usage:
    """Tokens summed over a run's round trips (a tool loop sends several)."""

    prompt: int = 0
    completion: int = 0
    cached: int = 0
    reasoning: int = 0

    def plus(self, r: ChatResult) -> Usage:
        return Usage(self.prompt + r.prompt_tokens, self.completion + r.completion_tokens,
                     self.cached + r.cached_tokens, self.reasoning + r.reasoning_tokens)


def tool_schemas(cell: Cell) -> dict[str, Any]:
    """Each tool's argument schema by name: arguments are checked before a function runs."""
    return {t["name"]: t.get("parameters") for t in cell.request.parameters.tools or ()}


class AnswerInvalid(ValueError):
    """The answer is not what response_format asked for."""


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    """One validator per schema: jsonschema.validate checks the schema against its metaschema
    on every call (milliseconds each), which a sweep of a thousand structured answers would
    pay a thousand times."""
    import jsonschema

    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


_BY_ID: dict[int, tuple[dict[str, Any], Any]] = {}
"""The validator of a schema object seen before (a sweep's cells share their request's): no
JSON text of the schema made per answer to find it. The schema is kept, so its id stays its.
(A judge's verdict is checked by its pydantic model, not here: evaluation.judges.)"""


def schema_validator(schema: dict[str, Any]) -> Any:
    """The (cached) validator of `schema`; the first one of a process imports jsonschema,
    which takes seconds."""
    hit = _BY_ID.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = _validator(json.dumps(schema, sort_keys=True))
    if len(_BY_ID) >= 64:
        _BY_ID.clear()
    _BY_ID[id(schema)] = (schema, validator)
    return validator


def _check_schema(value: Any, schema: dict[str, Any]) -> None:
    import jsonschema

    validator = schema_validator(schema)
    if next(iter(validator.iter_errors(value)), None) is None:  # valid: no best match to rank
        return
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            raise error
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "the answer"
        raise AnswerInvalid(f"the answer does not follow the schema at {where}: "
                            f"{e.message}") from None


def parse(text: str, response_format: dict[str, Any] | None,
          parse_as: type[BaseModel] | None) -> Any:
    """The answer as the requested object: a pydantic instance, else the JSON value."""
    if response_format is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise AnswerInvalid(f"the answer is not JSON ({e.msg} at character {e.pos}); "
                            f"it begins {text[:60]!r}") from None
    if parse_as is not None:
        try:
            return parse_as.model_validate(value)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the answer"
            raise AnswerInvalid(f"the answer does not validate as {parse_as.__name__} at "
                                f"{where}: {first['msg']}") from None
    schema = response_format.get("schema")
    if response_format.get("type") == "json_schema" and isinstance(schema, dict):
        _check_schema(value, schema)
    return value


def tool_calls_of(result: ChatResult, round: int = 0) -> tuple[ToolCall, ...]:
    """The model's calls with their arguments as objects; unreadable arguments are an error
    on that call (sent back to the model as such), not a failed run."""
    out: list[ToolCall] = []
    for call in result.tool_calls:
        raw = call.get("arguments") or "{}"
        try:
            args = json.loads(raw) if isinstance(raw, str) else dict(raw)
            error = None if isinstance(args, dict) else "the arguments are not a JSON object"
        except (json.JSONDecodeError, TypeError, ValueError) as e:
            args, error = {}, f"the arguments are not JSON: {e}"
        out.append(ToolCall(id=str(call.get("id") or f"call_{len(out)}"),
                            name=str(call.get("name", "")),
                            arguments=args if isinstance(args, dict) else {}, error=error,
                            round=round))
    return tuple(out)


def logprobs_of(result: ChatResult) -> tuple[TokenLogprob, ...] | None:
    if result.logprobs is None:
        return None
    return tuple(TokenLogprob(token=str(t["token"]), logprob=float(t["logprob"]),
                              top=_alternatives(t)) for t in result.logprobs)


def _alternatives(token: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """The top alternatives as (token, logprob): the APIs' [{"token", "logprob"}] or pairs."""
    if token.get("top_logprobs"):
        return tuple((str(a["token"]), float(a["logprob"])) for a in token["top_logprobs"])
    return tuple((str(a), float(b)) for a, b in token.get("top") or ())


def answer_fields(cell: Cell, result: ChatResult, calls: list[ToolCall]) -> dict[str, Any]:
    """The Experiment's fields for what came back; an answer that does not follow the requested
    format makes the row an error with the reason."""
    fields: dict[str, Any] = {
        "tool_calls": tuple(calls), "token_logprobs": logprobs_of(result),
        "refusal": result.refusal, "response_model": result.response_model}
    try:
        fields["parsed"] = parse(result.text, cell.request.parameters.response_format,
                                 cell.parse_as) if result.refusal is None else None
    except AnswerInvalid as e:
        fields.update(status="error", error=str(e), error_type="AnswerInvalid")
    return fields
