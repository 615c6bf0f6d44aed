"""Names typed in the panel's tools editor, resolved to the notebook's own functions (the
kernel's user namespace): only callables, and an unknown name says what to do."""

from __future__ import annotations

import keyword
from typing import Any

from nbplayground.errors import InvalidInput


def user_namespace() -> dict[str, Any]:
    """The notebook's variables (IPython's user_ns), or {} outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return {}
    shell = get_ipython()
    return dict(shell.user_ns) if shell is not None else {}


def is_name(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)


def resolve_tools(value: Any, namespace: dict[str, Any] | None = None) -> Any:
    """A tools list with each bare name replaced by the notebook function of that name; tool
    dicts (JSON) pass through unchanged."""
    if not isinstance(value, list) or not any(isinstance(v, str) for v in value):
        return value
    names = user_namespace() if namespace is None else namespace
    out: list[Any] = []
    for item in value:
        if not isinstance(item, str):
            out.append(item)
            continue
        found = names.get(item) if is_name(item) else None
        if found is None:
            raise InvalidInput(f"no function named {item!r} is defined in this notebook; "
                               "define it in a cell (def " + (item if is_name(item) else "f")
                               + "(...): ...) and run it, or give the tool as JSON")
        if not callable(found):
            kind = type(found).__name__
            raise InvalidInput(f"{item!r} in this notebook is {'an' if kind[0] in 'aeiou' else 'a'}"
                               f" {kind}, not a function; a tool is a function the model may call")
        out.append(found)
    return out
