"""Structured output and tools from what a user passes: pydantic models, JSON schemas, functions.

Everything here becomes plain JSON (what the log keeps and the wire carries); the Python objects
(the pydantic class to parse into, the functions to call) travel beside it on the cell.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

from nbplayground.errors import InvalidParameter

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's strict mode: every object closed and every property required."""
    out = dict(schema)
    if out.get("type") == "object" or "properties" in out:
        props = out.get("properties", {})
        out["properties"] = {k: strict_schema(v) for k, v in props.items()}
        out["required"] = list(props)
        out["additionalProperties"] = False
    for key in ("items", "anyOf", "allOf", "oneOf", "$defs", "definitions"):
        if key not in out:
            continue
        value = out[key]
        if isinstance(value, list):
            out[key] = [strict_schema(v) if isinstance(v, dict) else v for v in value]
        elif key in ("$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: strict_schema(v) for k, v in value.items()}
        elif isinstance(value, dict):
            out[key] = strict_schema(value)
    out.pop("default", None)  # strict schemas may not carry defaults
    return out


def response_format_of(value: Any) -> tuple[dict[str, Any], type[BaseModel] | None]:
    """(the JSON form, the pydantic class to parse into or None) of response_format=."""
    if value == "json_object":
        return {"type": "json_object"}, None
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"type": "json_schema", "name": value.__name__[:64],
                "schema": strict_schema(value.model_json_schema()), "strict": True}, value
    if isinstance(value, dict):
        schema = value.get("schema", value) if value.get("type") != "json_schema" else \
            value.get("schema") or value.get("json_schema", {}).get("schema")
        if not isinstance(schema, dict) or not schema:
            raise InvalidParameter("response_format as a dict must be a JSON schema "
                                   "({'type': 'object', 'properties': ...})",
                                   parameter="response_format", value=value)
        name = str(value.get("name") or schema.get("title") or "answer")[:64]
        return {"type": "json_schema", "name": re.sub(r"[^A-Za-z0-9_-]", "_", name),
                "schema": schema, "strict": bool(value.get("strict", False))}, None
    raise InvalidParameter(
        f"response_format must be a pydantic model class, a JSON-schema dict or "
        f"'json_object', not {type(value).__name__} {value!r}",
        parameter="response_format", value=value)


def _describe(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    import docstring_parser

    doc = docstring_parser.parse(inspect.getdoc(fn) or "")
    text = " ".join(p for p in (doc.short_description, doc.long_description) if p)
    return text, {p.arg_name: p.description or "" for p in doc.params}


def function_tool(fn: Callable[..., Any]) -> dict[str, Any]:
    """A function's tool: its schema from the type hints, its words from the docstring."""
    name = getattr(fn, "__name__", "")
    if not _NAME.match(name):
        raise InvalidParameter(f"a tool's name must be 1-64 letters, digits, _ or -, not "
                               f"{name!r}", parameter="tools", value=fn)
    try:
        hints = get_type_hints(fn)
    except Exception as e:
        raise InvalidParameter(f"tool {name}: its type hints cannot be read ({e})",
                               parameter="tools", value=fn) from None
    description, words = _describe(fn)
    fields: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise InvalidParameter(f"tool {name}: *{p.name} cannot be described to a model; "
                                   "name each argument", parameter="tools", value=fn)
        if p.name not in hints:
            raise InvalidParameter(
                f"tool {name}: argument {p.name!r} has no type hint; the model needs one to "
                f"know what to send (e.g. {p.name}: str)", parameter="tools", value=fn)
        default = ... if p.default is p.empty else p.default
        from pydantic import Field

        fields[p.name] = (hints[p.name], Field(default, description=words.get(p.name) or None))
    model: type[BaseModel] = create_model(f"{name}_args", __config__=ConfigDict(
        extra="forbid"), **fields)
    return {"name": name, "description": description, "parameters": model.model_json_schema(),
            "strict": False}


def tools_of(values: Any) -> tuple[tuple[dict[str, Any], ...], dict[str, Callable[..., Any]]]:
    """(the tools' JSON form, the callables by name) of tools=[...]."""
    if not isinstance(values, list | tuple) or not values:
        raise InvalidParameter("tools must be a non-empty list of functions, pydantic models or "
                               f"tool dicts, not {values!r}", parameter="tools", value=values)
    out: list[dict[str, Any]] = []
    calls: dict[str, Callable[..., Any]] = {}
    for v in values:
        if isinstance(v, type) and issubclass(v, BaseModel):
            doc = inspect.getdoc(v) or ""
            tool = {"name": v.__name__, "description": doc,
                    "parameters": strict_schema(v.model_json_schema()), "strict": True}
        elif isinstance(v, dict):
            fn = v.get("function", v) if v.get("type", "function") == "function" else None
            if not isinstance(fn, dict) or not _NAME.match(str(fn.get("name", ""))):
                raise InvalidParameter(f"a tool dict needs a function name and parameters, "
                                       f"not {v!r}", parameter="tools", value=v)
            tool = {"name": fn["name"], "description": fn.get("description", ""),
                    "parameters": fn.get("parameters") or {"type": "object", "properties": {}},
                    "strict": bool(fn.get("strict", False))}
        elif callable(v):
            tool = function_tool(v)
            calls[str(tool["name"])] = v
        else:
            raise InvalidParameter(f"a tool must be a function, a pydantic model or a tool "
                                   f"dict, not {type(v).__name__} {v!r}",
                                   parameter="tools", value=v)
        if any(t["name"] == tool["name"] for t in out):
            raise InvalidParameter(f"two tools are named {tool['name']!r}; names must differ",
                                   parameter="tools", value=values)
        out.append(tool)
    return tuple(out), calls


def python_objects(params: dict[str, Any]
                   ) -> tuple[type[BaseModel] | None, dict[str, Callable[..., Any]]]:
    """What travels beside the JSON: the class to parse into and the callable tools."""
    fmt = params.get("response_format")
    parse_as = response_format_of(fmt)[1] if fmt is not None else None
    tools = params.get("tools")
    return parse_as, (tools_of(tools)[1] if tools is not None else {})


def tool_rounds(run_tools: Any, max_tool_rounds: Any,
                functions: dict[str, Callable[..., Any]]) -> int:
    """How many rounds of calling and answering a run may take (0: calls are only recorded)."""
    if not isinstance(run_tools, bool):
        raise InvalidParameter(f"run_tools must be True or False, not {run_tools!r}",
                               parameter="run_tools", value=run_tools)
    if isinstance(max_tool_rounds, bool) or not isinstance(max_tool_rounds, int) or not \
            1 <= max_tool_rounds <= 50:
        raise InvalidParameter(f"max_tool_rounds must be a whole number from 1 to 50, not "
                               f"{max_tool_rounds!r}", parameter="max_tool_rounds",
                               value=max_tool_rounds)
    return max_tool_rounds if run_tools and functions else 0
