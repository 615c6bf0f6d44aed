"""Tool schemas from Python signatures: every argument described, required exactly when it has
no default, and the model's valid arguments accepted by the schema (hypothesis)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Literal, Optional

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from nbplayground.configuration.structured import function_tool, strict_schema, tools_of
from nbplayground.domain import ToolCall
from nbplayground.experimentation.tool_rounds import call_tool


class Address(BaseModel):
    street: str
    number: int | None = None


TYPES: list[tuple[Any, Any]] = [  # (annotation, a valid value)
    (int, 3), (float, 1.5), (str, "x"), (bool, True), (list[int], [1, 2]),
    (Optional[str], None), (Literal["c", "f"], "f"), (dict[str, int], {"a": 1}),  # noqa: UP045
    (Address, {"street": "Main"}), (list[Address], [{"street": "A", "number": 2}]),
]


def make_function(spec: list[tuple[int, bool]]) -> Any:
    params, hints = [], {}
    for i, (t, has_default) in enumerate(spec):
        annotation, example = TYPES[t]
        name = f"arg{i}"
        default = example if has_default else inspect.Parameter.empty
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=annotation))
        hints[name] = annotation

    def tool(**kwargs: Any) -> str:
        return "ok"

    tool.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    tool.__annotations__ = {**hints, "return": str}
    tool.__doc__ = "A tool.\n\nArgs:\n" + "".join(f"    arg{i}: the {i}th\n"
                                                   for i in range(len(spec)))
    return tool


@given(st.lists(st.tuples(st.integers(0, len(TYPES) - 1), st.booleans()), max_size=6))
def test_a_signature_becomes_a_schema_that_takes_its_valid_arguments(
        spec: list[tuple[int, bool]]) -> None:
    tool = function_tool(make_function(spec))
    schema = tool["parameters"]
    names = [f"arg{i}" for i in range(len(spec))]
    assert list(schema.get("properties", {})) == names
    assert sorted(schema.get("required", [])) == sorted(
        n for n, (_, d) in zip(names, spec, strict=True) if not d)
    assert all(schema["properties"][n]["description"] == f"the {i}th"
               for i, n in enumerate(names))
    args = {n: TYPES[t][1] for n, (t, _) in zip(names, spec, strict=True)}
    jsonschema.validate(args, schema)
    for n, (t, _) in zip(names, spec, strict=True):  # and refuses a wrong type
        if TYPES[t][0] in (int, float, bool, list[int]):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate({**args, n: "not that"}, schema)


def test_pydantic_models_and_dicts_are_tools_too() -> None:
    class Lookup(BaseModel):
        """Find a record."""

        key: str
        limit: int = 10

    tools, calls = tools_of([Lookup, {"type": "function", "function": {
        "name": "raw", "description": "d", "parameters": {"type": "object"}}}])
    assert [t["name"] for t in tools] == ["Lookup", "raw"] and calls == {}
    assert tools[0]["strict"] and tools[0]["parameters"]["required"] == ["key", "limit"]
    assert tools[0]["description"] == "Find a record."


def test_strict_schemas_close_every_object() -> None:
    s = strict_schema(Address.model_json_schema())
    assert s["additionalProperties"] is False and s["required"] == ["street", "number"]


JSON_TEXT = st.text(max_size=8)
VALUES: list[st.SearchStrategy[Any]] = [  # what a model may send for each of TYPES
    st.integers(), st.floats(allow_nan=False, allow_infinity=False) | st.integers(), JSON_TEXT,
    st.booleans(), st.lists(st.integers(), max_size=3), st.none() | JSON_TEXT,
    st.sampled_from(["c", "f"]), st.dictionaries(JSON_TEXT, st.integers(), max_size=3),
    st.fixed_dictionaries({"street": JSON_TEXT}, optional={"number": st.none() | st.integers()}),
    st.lists(st.fixed_dictionaries({"street": JSON_TEXT}), max_size=2),
]
WRONG: dict[int, Any] = {0: "3", 1: "1.5", 3: 1, 4: [1, "2"], 5: 4, 6: "k", 7: {"a": "b"},
                         8: {"number": 2}, 9: [{"street": 1}]}


def call_once(schema: dict[str, Any], arguments: dict[str, Any]
              ) -> tuple[ToolCall, list[dict[str, Any]]]:
    """The model's call of a tool with `schema` through the tool loop's own checks."""
    received: list[dict[str, Any]] = []

    def recording(**kwargs: Any) -> str:
        received.append(kwargs)
        return "ok"

    call = ToolCall(id="c1", name="tool", arguments=arguments)
    done = asyncio.run(call_tool(call, {"tool": recording}, {"tool": schema}))
    return done, received


@given(st.lists(st.tuples(st.integers(0, len(TYPES) - 1), st.booleans()), max_size=5),
       st.data())
def test_whatever_the_schema_accepts_reaches_the_function_and_nothing_else_does(
        spec: list[tuple[int, bool]], data: st.DataObject) -> None:
    schema = function_tool(make_function(spec))["parameters"]
    arguments = {f"arg{i}": data.draw(VALUES[t]) for i, (t, has_default) in enumerate(spec)
                 if not has_default or data.draw(st.booleans())}  # defaults may be left out
    done, received = call_once(schema, arguments)
    assert (done.error, done.result, received) == (None, "ok", [arguments])
    wrong = [(i, t) for i, (t, _) in enumerate(spec) if t in WRONG]
    if wrong:
        i, t = data.draw(st.sampled_from(wrong))
        done, received = call_once(schema, {**arguments, f"arg{i}": WRONG[t]})
        assert done.error is not None and done.error.startswith("invalid arguments for tool")
        assert received == []  # never called with what the schema refuses
    required = [f"arg{i}" for i, (_, has_default) in enumerate(spec) if not has_default]
    if required:
        missing = data.draw(st.sampled_from(required))
        done, received = call_once(schema, {k: v for k, v in arguments.items() if k != missing})
        assert done.error is not None and missing in done.error and received == []
    done, received = call_once(schema, {**arguments, "unasked": 1})
    assert done.error is not None and received == []  # no argument the signature lacks
