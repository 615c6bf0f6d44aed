"""The sweep grid: prompts × providers × models × parameter values × repeats, crossed (or
zipped)."""

from __future__ import annotations

import itertools
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from nbplayground.configuration import require_known
from nbplayground.configuration.validation import CELL_OPTIONS
from nbplayground.domain.conversation import normalize_turns
from nbplayground.domain.fields import FIELDS
from nbplayground.domain.parameters import PARAMETER_NAMES
from nbplayground.domain.prompts import PromptVersion
from nbplayground.errors import InvalidInput
from nbplayground.evaluation.templates import resolve
from nbplayground.experimentation.conversations import Turns, render_turns

Mode = Literal["cross", "zip"]


@dataclass(frozen=True)
class CellSpec:
    """One point of the grid, before validation."""

    prompt: Any
    model: str | None
    """None: the provider's default model."""
    system: str | None
    repeat: int
    params: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] | None = None
    source: PromptVersion | None = None
    """The saved prompt version the cell's prompt was filled from."""
    provider: str | None = None
    """None: the Playground's own provider."""


def _is_conversation(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str) and bool(value) and all(
        isinstance(m, Mapping) and "role" in m for m in value)


def normalize_prompts(prompts: Any) -> list[Any]:
    """A string, a conversation, or a list of either → a list of prompts."""
    if isinstance(prompts, str | Turns) or _is_conversation(prompts):
        return [prompts]
    if isinstance(prompts, Sequence) and prompts:
        return list(prompts)
    raise InvalidInput("prompts must be a string, a list of strings, or a list of conversations "
                       f"(lists of {{'role', 'content'}}), not {type(prompts).__name__}")


def _turns(conversation: Any) -> tuple[dict[str, Any], ...]:
    try:
        return normalize_turns(list(conversation), "the conversation")
    except ValueError as e:
        raise InvalidInput(str(e)) from None


def _names(model: Any) -> list[str | None]:
    if model is None:
        return [None]
    models = [model] if isinstance(model, str) else model
    if not isinstance(models, list | tuple) or not models or not all(
            isinstance(m, str) and m.strip() for m in models):
        raise InvalidInput(f"model must be a model name or a list of them, not {model!r}")
    return list(models)


def providers_of(provider: Any) -> list[str | None]:
    """provider= as an axis: None (the Playground's own), a name, or a list of names."""
    if provider is None or isinstance(provider, str):
        return [provider]
    if not isinstance(provider, list | tuple) or not provider or not all(
            isinstance(p, str) for p in provider):
        raise InvalidInput(f"provider must be a provider name or a list of them to sweep over "
                           f"(e.g. ['local', 'simulated']), not {provider!r}")
    return list(provider)


LISTS = frozenset({*(f.name for f in FIELDS if f.kind == "strings" or f.shape == "tools"),
                   "images"})
"""Fields whose one value is already a list (stop, tools, images): a list of lists sweeps."""


def _axis(name: str, value: Any) -> list[Any]:
    """A parameter's values: a list sweeps; for a list-valued field, only a list of lists
    (or Nones) sweeps."""
    if name in LISTS:
        if isinstance(value, list | tuple) and value and all(
                v is None or isinstance(v, list | tuple) for v in value):
            return list(value)
        return [value]
    if isinstance(value, list | tuple):
        if not value:
            raise InvalidInput(f"{name}=[] sweeps over nothing; give at least one value")
        return list(value)
    return [value]


def template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


class _Vars(string.Formatter):
    """str.format, where {a.b} reads the field b of a dict in column a (an imported eval's
    nested item fields) rather than an attribute."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
                  ) -> Any:
        found, value = resolve(kwargs, field_name)
        if found:
            return value, field_name
        return super().get_field(field_name, args, kwargs)


def fill(template: str, variables: Mapping[str, Any]) -> str:
    missing = [f for f in template_fields(template)
               if f not in variables and f.split(".")[0].split("[")[0] not in variables]
    if missing:
        raise InvalidInput(f"the template needs {', '.join(missing)} but the variables have "
                           f"{', '.join(map(str, variables)) or 'none'}")
    if any("." in f for f in template_fields(template)):
        return _Vars().vformat(template, (), variables)
    return template.format(**variables)


def records(variables: Any) -> list[dict[str, Any]]:
    """vars= as a list of dicts or a DataFrame."""
    to_dict = getattr(variables, "to_dict", None)
    if callable(to_dict):
        return list(to_dict(orient="records"))
    if isinstance(variables, Sequence) and all(isinstance(v, Mapping) for v in variables):
        return [dict(v) for v in variables]
    raise InvalidInput("vars must be a list of dicts or a pandas DataFrame")


def expand(prompts: Any, model: str | Sequence[str] | None, *,
           system: str | Sequence[Any] | None, repeats: int, params: Mapping[str, Any],
           mode: Mode = "cross", variables: Any = None,
           provider: str | Sequence[str] | None = None) -> list[CellSpec]:
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise InvalidInput(f"repeats must be a whole number ≥ 1, not {repeats!r}")
    if mode not in ("cross", "zip"):
        raise InvalidInput(f"mode must be 'cross' or 'zip', not {mode!r}")
    require_known(params)
    params = {k: v for k, v in params.items() if v is not None}  # None: the model's default
    base = normalize_prompts(prompts)
    filled: list[tuple[Any, dict[str, Any] | None]] = []
    if variables is not None:
        rows = records(variables)
        for p in base:
            if isinstance(p, str):
                filled += [(fill(p, r), r) for r in rows]
            elif isinstance(p, Turns) or _is_conversation(p):
                turns = p if isinstance(p, Turns) else Turns(_turns(p))
                filled += [(render_turns(turns.turns, r), r) for r in rows]
            else:
                raise InvalidInput("vars= fills templates; the prompts must be strings or "
                                   "conversations ({'role', 'content'} turns)")
    else:
        filled = [(render_turns(p.turns, None) if isinstance(p, Turns) else p, None)
                  for p in base]
    models = _names(model)
    providers = providers_of(provider)
    systems: list[Any] = list(system) if isinstance(system, list | tuple) else [system]
    if not systems or not all(v is None or isinstance(v, str) for v in systems):
        raise InvalidInput("system must be a string, None, or a list of them to sweep over")
    names = [n for n in (*PARAMETER_NAMES, *CELL_OPTIONS) if n in params]
    axes = [_axis(n, params[n]) for n in names]
    if mode == "zip":
        axes_and_lists: list[list[Any]] = [providers, models, systems, *axes]
        lengths = {len(a) for a in axes_and_lists if len(a) > 1}
        if len(lengths) > 1:
            raise InvalidInput(f"mode='zip' needs every list to have the same length, got "
                               f"{sorted(lengths)}")
        n = lengths.pop() if lengths else 1
        combos = [(providers[i % len(providers)], models[i % len(models)],
                   systems[i % len(systems)], tuple(a[i % len(a)] for a in axes))
                  for i in range(n)]
    else:
        combos = [(pr, m, s, vals) for pr in providers for m in models for s in systems
                  for vals in itertools.product(*axes)]
    return [CellSpec(prompt=p, model=m, system=s, repeat=r, provider=pr,
                     params=dict(zip(names, vals, strict=True)), variables=v)
            for (p, v) in filled for (pr, m, s, vals) in combos for r in range(repeats)]


def expand_prompts(prompts: Any, model: str | Sequence[str] | None, *,
                   default_model: str | None = None, system: str | Sequence[Any] | None,
                   repeats: int, params: Mapping[str, Any], mode: Mode = "cross",
                   variables: Any = None, provider: str | Sequence[str] | None = None
                   ) -> list[CellSpec]:
    """expand(), where prompts may be saved versions (one, or a list: an axis): a version's
    model, system and request fields are its cells' defaults, which the arguments override.
    No model and no default: each cell's model is None (its provider's default)."""
    items = [prompts] if isinstance(prompts, PromptVersion) else prompts
    if not isinstance(items, list | tuple) or not any(isinstance(p, PromptVersion)
                                                       for p in items):
        return expand(prompts, model or default_model, system=system, repeats=repeats,
                      params=params, mode=mode, variables=variables, provider=provider)
    if not items:
        raise InvalidInput("prompts is an empty list; give at least one prompt")
    specs: list[CellSpec] = []
    for item in items:
        if not isinstance(item, PromptVersion):
            specs += expand(item, model or default_model, system=system, repeats=repeats,
                            params=params, mode=mode, variables=variables, provider=provider)
            continue
        given = {k: v for k, v in params.items() if v is not None}
        text: Any = item.template if variables is not None else item.render()
        if item.messages:
            text = Turns(item.messages)
        specs += [replace(s, source=item) for s in expand(
            text, model or item.model or default_model,
            system=item.system if system is None else system, repeats=repeats,
            params={**item.params, **given}, mode=mode, variables=variables,
            provider=provider)]
    return specs
