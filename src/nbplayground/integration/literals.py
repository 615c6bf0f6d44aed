"""Source literals for generated code: Python, JavaScript and JSON, escaped and wrapped."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

WIDTH = 88
_JS_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@lru_cache(maxsize=512)
def string_literal(text: str, lang: str) -> str:
    """A double-quoted literal in which every non-printable character is escaped.

    JSON's escapes are valid in Python and JavaScript; escaping what is not printable keeps
    NUL, U+2028, bidi overrides and other invisible or line-breaking characters out of the code.
    """
    raw = json.dumps(text, ensure_ascii=False)
    if raw.isprintable():
        return raw
    return "".join(c if c.isprintable() else _escape(c, lang) for c in raw)


def _escape(char: str, lang: str) -> str:
    if lang == "python" and ord(char) > 0xFFFF:  # Python reads a \ud83d\ude00 pair as two chars
        return f"\\U{ord(char):08x}"
    return json.dumps(char)[1:-1]


def _key(key: str, lang: str) -> str:
    if lang != "javascript":
        return string_literal(key, lang)
    if key == "__proto__":  # a plain __proto__ key would set the object's prototype
        return '["__proto__"]'
    return key if _JS_NAME.match(key) else string_literal(key, lang)


def _flat(value: Any, lang: str) -> str:
    py = lang == "python"
    if isinstance(value, str):
        return string_literal(value, lang)
    if isinstance(value, bool) or value is None:
        return {True: "True" if py else "true", False: "False" if py else "false",
                None: "None" if py else "null"}[value]
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k, lang)}: {_flat(v, lang)}" for k, v in value.items())
        return f"{{ {inner} }}" if lang == "javascript" and inner else f"{{{inner}}}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flat(v, lang) for v in value) + "]"
    return json.dumps(value)


def literal(value: Any, lang: str, indent: int, col: int, *, force: bool = False) -> str:
    """`value` as source starting at column `col` of a line indented by `indent`, pprint-style.

    `lang` is "python", "javascript" or "json" (no trailing commas, strings on one line).
    """
    flat = _flat(value, lang)
    if not force and col + len(flat) < WIDTH:
        return flat
    step = 4 if lang == "python" else 2
    inner = " " * (indent + step)
    if isinstance(value, str):
        pieces = [string_literal(p, lang) for p in _LINE.findall(value)]
        if len(pieces) < 2 or lang == "json":
            return flat
        if lang == "python":
            return "(\n" + "".join(f"{inner}{p}\n" for p in pieces) + " " * indent + ")"
        return f" +\n{inner}".join(pieces)
    if isinstance(value, dict) and value:
        items = entries(value, lang, indent + step)
    elif isinstance(value, list | tuple) and value:
        items = [f"{inner}{literal(v, lang, indent + step, len(inner))}" for v in value]
    else:
        return flat
    brackets = "{}" if isinstance(value, dict) else "[]"
    comma = "" if lang == "json" else ","
    return f"{brackets[0]}\n" + ",\n".join(items) + f"{comma}\n{' ' * indent}{brackets[1]}"


def entries(body: dict[str, Any], lang: str, indent: int, *, kwargs: bool = False) -> list[str]:
    """One `key: value` line per entry (`key=value` for Python keyword arguments)."""
    pad, lines = " " * indent, []
    for k, v in body.items():
        head = f"{pad}{k}=" if kwargs else f"{pad}{_key(k, lang)}: "
        lines.append(f"{head}{literal(v, lang, indent, len(head), force=k == 'messages')}")
    return lines
