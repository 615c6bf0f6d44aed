"""What OpenAI-compatible servers say differently: llama-cpp-python's server takes a JSON schema
as {"type": "json_object", "schema": ...} and answers OpenAI's json_schema form with a 500.

An endpoint is known to speak that dialect from its model list (that server lists every model
as owned_by "me" with a "permissions" list: llama_cpp/server/app.py) or, for a server that
did not say, from that very 500; either way it is remembered for the endpoint, and the body
sent (and logged, and reproduced by the generated code) is the one it takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def lists_like_llama_cpp_python(models: Iterable[Any]) -> bool:
    """A model list (the SDK's Model objects, or dicts) in llama-cpp-python's server's shape."""
    found = False
    for m in models:
        extra = m if isinstance(m, dict) else (getattr(m, "model_extra", None) or {})
        owner = m.get("owned_by") if isinstance(m, dict) else getattr(m, "owned_by", None)
        if owner != "me" or not isinstance(extra.get("permissions"), list):
            return False
        found = True
    return found


def refuses_json_schema(status: int | None, message: str) -> bool:
    """The server's answer to response_format {"type": "json_schema"}: a validation error that
    names response_format.type and allows json_object (llama-cpp-python answers with a 500)."""
    return (status is not None and status >= 400 and "response_format" in message
            and "'json_schema'" in message and "json_object" in message)


def with_json_object_schema(body: dict[str, Any]) -> dict[str, Any]:
    """The body with OpenAI's json_schema response_format in the json_object + schema form."""
    fmt = body.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return body
    schema = (fmt.get("json_schema") or {}).get("schema")
    return {**body, "response_format": {"type": "json_object", **(
        {"schema": schema} if isinstance(schema, dict) else {})}}
