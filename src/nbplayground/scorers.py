"""Scorers for `pg.sweep(..., scorers=[...])`: `from nbplayground import scorers as s`.

References are templates: `{answer}` is the model's output, `{answer.field}` a field of the
JSON answer, `{column}` a column of the sweep's `vars`. Names and semantics follow OpenAI's
graders (string_check eq/ne/like/ilike, text_similarity, score_model, label_model, python).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError

from nbplayground.evaluation import Grade, InvalidScorer, MetricUnavailable, Score, Scorer
from nbplayground.evaluation import call_checks as _c
from nbplayground.evaluation import judges as _j
from nbplayground.evaluation import scorers as _s
from nbplayground.evaluation.metrics import METRICS
from nbplayground.evaluation.python_check import Python

__all__ = ["METRICS", "Grade", "InvalidScorer", "MetricUnavailable", "Score", "Scorer",
           "contains", "cost", "exact", "icontains", "ilike", "json_schema", "json_valid",
           "judge", "label", "latency", "like", "ne", "python", "regex", "similarity",
           "tool_called"]

S = TypeVar("S", bound=Scorer)


def _make(cls: type[S], what: str, **fields: Any) -> S:
    fields = {k: v for k, v in fields.items() if v is not None or k in ("threshold", "system")}
    if fields.get("name") is None:
        fields["name"] = what
    try:
        return cls(**fields)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(map(str, err["loc"])) or what
        raise InvalidScorer(f"{what}(): {where}: {err['msg'].removeprefix('Value error, ')}"
                            ) from None


def _check(ref: str, op: str, name: str | None, weight: float, strip: bool) -> Scorer:
    return _make(_s.StringCheck, name or op_names[op], reference=ref, operation=op,
                 name=name, weight=weight, strip=strip)


op_names = {"eq": "exact", "ne": "ne", "like": "contains", "ilike": "icontains"}


def exact(reference: str, *, case: bool = True, strip: bool = True, name: str | None = None,
          weight: float = 1.0) -> Scorer:
    """The answer equals `reference` (string_check eq); case=False ignores case."""
    if case:
        return _check(reference, "eq", name, weight, strip)
    return _make(_s.CaseInsensitiveEq, name or "exact", reference=reference, operation="eq",
                 name=name, weight=weight, strip=strip)


def ne(reference: str, *, strip: bool = True, name: str | None = None,
       weight: float = 1.0) -> Scorer:
    """The answer differs from `reference` (string_check ne)."""
    return _check(reference, "ne", name, weight, strip)


def contains(reference: str, *, name: str | None = None, weight: float = 1.0) -> Scorer:
    """The answer contains `reference` (string_check like)."""
    return _check(reference, "like", name, weight, True)


def icontains(reference: str, *, name: str | None = None, weight: float = 1.0) -> Scorer:
    """The answer contains `reference`, ignoring case (string_check ilike)."""
    return _check(reference, "ilike", name, weight, True)


def like(reference: str, *, name: str | None = None, weight: float = 1.0) -> Scorer:
    """OpenAI's name for contains."""
    return _check(reference, "like", name or "like", weight, True)


def ilike(reference: str, *, name: str | None = None, weight: float = 1.0) -> Scorer:
    """OpenAI's name for icontains."""
    return _check(reference, "ilike", name or "ilike", weight, True)


def regex(pattern: str, *, ignore_case: bool = False, name: str | None = None,
          weight: float = 1.0) -> Scorer:
    """re.search(pattern, answer) finds a match (the pattern is not a template)."""
    return _make(_s.Regex, "regex", pattern=pattern, ignore_case=ignore_case, name=name,
                 weight=weight)


def json_valid(*, name: str | None = None, weight: float = 1.0) -> Scorer:
    """The answer parses as JSON."""
    return _make(_s.JsonValid, "json_valid", name=name, weight=weight)


def json_schema(model_or_schema: Any, *, name: str | None = None, weight: float = 1.0
                ) -> Scorer:
    """The JSON answer validates against a pydantic model class or a JSON-schema dict."""
    return _make(_s.JsonSchema, "json_schema", schema=model_or_schema, name=name,
                 weight=weight)


def similarity(reference: str, *, metric: str = "fuzzy_match", threshold: float = 0.5,
               name: str | None = None, weight: float = 1.0) -> Scorer:
    """text_similarity: `metric` (one of METRICS) of answer vs reference, in [0, 1]; passes
    at `threshold`. meteor reads WordNet 3.0 offline (the `meteor` extra); cosine embeds with
    the sweep's provider (vectors cached in the log by text hash, calls priced and booked)."""
    return _make(_s.Similarity, str(metric), reference=reference, metric=metric,
                 threshold=threshold, name=name, weight=weight)


def python(fn: Callable[..., Any], *, threshold: float = 0.5, name: str | None = None,
           weight: float = 1.0) -> Scorer:
    """fn(answer, row) -> bool | number | Score; a number passes at `threshold`."""
    if not callable(fn):
        raise InvalidScorer(f"python() takes a function fn(answer, row), not "
                            f"{type(fn).__name__}")
    return _make(Python, getattr(fn, "__name__", "python"), fn=fn, threshold=threshold,
                 name=name, weight=weight)


def cost(*, max_usd: float, name: str | None = None, weight: float = 1.0) -> Scorer:
    """The call cost at most `max_usd` (USD); the score is the cost."""
    return _make(_c.MaxCost, "cost", max_usd=max_usd, name=name, weight=weight)


def latency(*, max_ms: float, name: str | None = None, weight: float = 1.0) -> Scorer:
    """The call took at most `max_ms` milliseconds; the score is the latency."""
    return _make(_c.MaxLatency, "latency", max_ms=max_ms, name=name, weight=weight)


def tool_called(tool: str, *, times: int = 1, name: str | None = None,
                weight: float = 1.0) -> Scorer:
    """The model called the tool named `tool` (at least `times` times, in any round)."""
    return _make(_c.ToolCalled, f"tool_called_{tool}", tool=tool, times=times, name=name,
                 weight=weight)


def _need_model(what: str, model: Any) -> None:
    if model is None:
        raise InvalidScorer(f"{what}() needs model=: which model judges is your choice, "
                            f"e.g. {what}(..., model='gpt-4o-mini')")


def judge(rubric: str, *, model: str | None = None, range: tuple[float, float] = (0.0, 1.0),
          threshold: float | None = None, system: str | None = None,
          provider: str | None = None, name: str | None = None, weight: float = 1.0,
          images: Sequence[str | Mapping[str, Any]] = (), **params: Any) -> Scorer:
    """score_model: `model` reads the rubric (a template) and answers {"score", "reason"};
    passes at `threshold` (default: the middle of `range`). `images` are image URL templates
    ("{image_url}", or {"url", "detail"} each) it sees with the rubric. `params` go to its
    request."""
    _need_model("judge", model)
    return _make(_j.Judge, "judge", prompt=rubric, model=model, range=tuple(range),
                 threshold=threshold, system=system, provider=provider, params=params,
                 name=name, weight=weight, **_urls(images))


def label(prompt: str, *, labels: Sequence[str], passing: Sequence[str],
          model: str | None = None, system: str | None = None, provider: str | None = None,
          name: str | None = None, weight: float = 1.0,
          images: Sequence[str | Mapping[str, Any]] = (), **params: Any) -> Scorer:
    """label_model: `model` picks one of `labels` ({"label", "reason"}); `passing` ones pass;
    `images` as for judge()."""
    _need_model("label", model)
    if isinstance(labels, str) or isinstance(passing, str):
        raise InvalidScorer("labels= and passing= are lists of labels, e.g. "
                            "labels=['polite', 'rude'], passing=['polite']")
    return _make(_j.Label, "label", prompt=prompt, model=model, labels=tuple(labels),
                 passing=tuple(passing), system=system, provider=provider, params=params,
                 name=name, weight=weight, **_urls(images))


def _urls(images: Any) -> dict[str, Any]:
    """images= as the grader's fields: URL templates, or {"url", "detail"} each."""
    if isinstance(images, str) or not isinstance(images, Sequence):
        raise InvalidScorer(f"images= is a list of image URL templates, e.g. ['{{image_url}}'], "
                            f"not {images!r}")
    urls = [i.get("url") if isinstance(i, Mapping) else i for i in images]
    details = [i.get("detail") if isinstance(i, Mapping) else None for i in images]
    return {"images": tuple(urls),
            "image_detail": tuple(details) if any(d is not None for d in details) else ()}
