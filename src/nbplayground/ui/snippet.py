"""The `pg.run(...)` / `pg.sweep(...)` cell that reproduces what the panel shows."""

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


def compare_cell(var: str, prompt: Any, columns: list[dict[str, Any]],
                 default_provider: str) -> str:
    """One zipped sweep when the columns share a provider, else one pg.run per column."""
    providers = {c.get("provider") for c in columns}
    if len(providers) != 1 or len(columns) < 2:
        return "\n".join(run_cell(var, prompt, c, default_provider).replace(
            "exp = ", f"exp{i + 1} = ", 1).replace("exp\n", f"exp{i + 1}\n")
            for i, c in enumerate(columns))
    names = ["system", *PARAMETER_NAMES]
    kw: dict[str, Any] = {"model": [c["model"] for c in columns]}
    for name in names:
        values = [c.get(name) for c in columns]
        if all(v is None for v in values):
            continue
        kw[name] = values[0] if all(v == values[0] for v in values) else values
    provider = providers.pop()
    if provider != default_provider:
        kw["provider"] = provider
    kw["mode"] = "zip"
    return "sw = " + _call(f"{var}.sweep", prompt, kw) + "sw.to_pandas()\n"
