"""What the simulated provider answers to response_format: an instance of the JSON schema asked
for, drawn from the request's own random stream (the same request, the same instance).

Numbers fall within minimum/maximum, strings take the schema's enum when it has one: a judge's
verdict schema ({"score": 0..1, "reason"}) gets a valid, varied verdict without a key.
"""

from __future__ import annotations

import json
import random
from typing import Any

WORDS = ("clear", "correct", "partly", "right", "vague", "short", "answer", "matches", "the",
         "reference", "well", "enough")


def answer(response_format: dict[str, Any], text: str, rng: random.Random) -> str:
    """The JSON text for `response_format` ({"type": "json_object"} or a json_schema)."""
    if response_format.get("type") == "json_schema":
        schema = response_format.get("schema") or {}
        return json.dumps(instance(schema, schema, rng), ensure_ascii=False)
    return json.dumps({"answer": text}, ensure_ascii=False)


def instance(schema: Any, root: Any, rng: random.Random, depth: int = 0) -> Any:
    """A random instance of `schema` (refs, const, enum, anyOf/oneOf/allOf, objects with every
    property, arrays of one to three items, bounded numbers)."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return instance(target, root, rng, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(list(schema["enum"]))
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            branches = [b for b in schema[key] if b.get("type") != "null"] or schema[key]
            return instance(branches[0], root, rng, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: instance(v, root, rng, depth + 1) for k, v in props.items()}
    if kind == "array":
        low = int(schema.get("minItems", 1))
        n = max(low, min(int(schema.get("maxItems", 3)), rng.randint(1, 3)))
        return [instance(schema.get("items", {}), root, rng, depth + 1) for _ in range(n)]
    if kind in ("number", "integer"):
        lo = float(schema.get("minimum", 0 if "maximum" not in schema else
                              min(0.0, float(schema["maximum"]))))
        hi = float(schema.get("maximum", lo + 10))
        if kind == "integer":
            return rng.randint(int(lo), max(int(lo), int(hi)))
        return round(lo + (hi - lo) * rng.random(), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).capitalize() + "."
