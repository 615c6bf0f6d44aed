"""The `pg.run(...)` / `pg.sweep(...)` cells that reproduce what the panel shows and runs."""

from __future__ import annotations

import pprint
from typing import Any

from nbplayground.domain.fields import PARAMETER_NAMES

_WIDTH = 88


class _Bare:
    """A notebook function in generated code: its name, not its repr."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _named(value: Any) -> Any:
    if isinstance(value, list):
        return [_named(v) for v in value]
    name = getattr(value, "name", None)
    if isinstance(value, bytes) and isinstance(name, str):  # an image attached in the panel
        return name  # as a path: pg.run reads the file
    return _Bare(value.__name__) if callable(value) and hasattr(value, "__name__") else value


def _value(value: Any, indent: int) -> str:
    text = pprint.pformat(_named(value), width=_WIDTH - indent, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _call(head: str, prompt: Any, kwargs: dict[str, Any]) -> str:
    args = [_value(prompt, 4)] + [f"{k}={_value(v, 4 + len(k) + 1)}" for k, v in kwargs.items()]
    return head + "(\n" + "".join(f"    {a},\n" for a in args) + ")\n"


def variable_name(obj: object, default: str = "pg") -> str:
    """The notebook variable that holds `obj` (so the cell runs as is), else `default`."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return default
    if shell is None:
        return default
    items = list(shell.user_ns.items())  # a copy: the kernel may add names meanwhile
    names = sorted(k for k, v in items if v is obj and not k.startswith("_"))
    return default if not names or default in names else names[0]


def run_cell(var: str, prompt: Any, kwargs: dict[str, Any], default_provider: str) -> str:
    kw = {k: v for k, v in kwargs.items() if v is not None
          and not (k == "provider" and v == default_provider)}
    return "exp = " + _call(f"{var}.run", prompt, kw) + "exp\n"


def sweep_arguments(columns: list[dict[str, Any]], default_provider: str) -> dict[str, Any]:
    """pg.sweep's keyword arguments that run the compare columns (each pg.run's arguments) as
    one zipped sweep: a value every column shares is given once, one that differs as a list,
    the provider too (a sweep may mix providers); the model is always a list, one per column."""
    names = list(dict.fromkeys(["model", "provider", "system", *PARAMETER_NAMES,
                                *(k for c in columns for k in c)]))
    kw: dict[str, Any] = {}
    for name in names:
        values = [c.get(name) for c in columns]
        if name == "provider":
            values = [v or default_provider for v in values]
            if all(v == default_provider for v in values):
                continue
        if all(v is None for v in values):
            continue
        same = name != "model" and all(v == values[0] for v in values)
        kw[name] = values[0] if same else values
    kw["mode"] = "zip"
    return kw


def sweep_cell(var: str, prompt: Any, kwargs: dict[str, Any]) -> str:
    """The one pg.sweep(...) cell of those arguments (the compare columns' sweep)."""
    return "sw = " + _call(f"{var}.sweep", prompt, kwargs) + "sw.to_pandas()\n"
