"""An eval's testing_criteria as scorers, one per grader, named as in the export.

string_check eq/ne/like/ilike -> exact/ne/like/ilike, text_similarity -> similarity (same
metric and pass_threshold), score_model -> judge, label_model -> label, python -> the source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from nbplayground import scorers as s
from nbplayground.evaluation.openai_import import shapes
from nbplayground.evaluation.openai_import.errors import InvalidExport
from nbplayground.evaluation.openai_import.mustache import (
    Converted,
    check_paths,
    convert,
    message_parts,
)
from nbplayground.evaluation.openai_import.untrusted import DEFAULT_PASS, UntrustedPython
from nbplayground.evaluation.score import Grade, InvalidScorer
from nbplayground.evaluation.scorers import Scorer, Similarity, StringCheck
from nbplayground.evaluation.templates import Answer, Template

ANSWER = "{answer}"
_OPS = {"eq": s.exact, "ne": s.ne, "like": s.like, "ilike": s.ilike}


class _OnInput:
    """A grader whose `input` is not the answer itself (e.g. {{sample.output_json.city}}):
    the check reads the rendered input where it would read the answer."""

    input: str  # declared again on each scorer class, where pydantic sees it

    def columns(self) -> set[str]:
        return cast(Scorer, super()).columns() | Template.parse(self.input).columns

    def grade(self, answer: Answer, *args: Any) -> Grade:
        text = Template.parse(self.input, "the grader's input").render(answer)
        seen = Answer(text, answer.row, answer.cost, answer.latency_ms, answer.ok,
                      answer.error, answer.tool_calls)
        return cast(Any, super()).grade(seen, *args)  # type: ignore[no-any-return]


class InputStringCheck(_OnInput, StringCheck):
    """string_check on a templated input."""

    input: str


class InputSimilarity(_OnInput, Similarity):
    """text_similarity on a templated input."""

    input: str


def _template(text: str, where: str, items: Sequence[Mapping[str, Any]]) -> Converted:
    conv = convert(text, where, sample=True)
    check_paths(conv, items, where)
    return conv


def _messages(messages: Sequence[shapes.Message], where: str,
              items: Sequence[Mapping[str, Any]]
              ) -> tuple[str, str | None, list[dict[str, Any]]]:
    """A model grader's input messages as (prompt, system, image URL templates): system and
    developer messages are the system message; the others, in order, the rubric, and their
    input_image parts the images the judge sees with it."""
    system: list[str] = []
    prompt: list[str] = []
    images: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        text, urls = message_parts(m.content, f"{where}[{i}].content")
        if urls and m.role in ("system", "developer"):
            raise InvalidExport("images go in a user message of the grader's input, not a "
                                f"{m.role} message", where=urls[0][1])
        images += [{"url": _template(u, at, items).text, "detail": d} for u, at, d in urls]
        conv = _template(text, f"{where}[{i}].content", items).text
        (system if m.role in ("system", "developer") else prompt).append(conv)
    if not prompt:
        raise InvalidExport("a model grader needs a user message (its rubric)", where=where)
    return "\n\n".join(prompt), "\n\n".join(system) if system else None, images


def judge_params(sp: shapes.GraderSampling | None) -> dict[str, Any]:
    """A grader's sampling_params as request fields (both spellings of the token limit)."""
    if sp is None:
        return {}
    limit = sp.max_completions_tokens or sp.max_completion_tokens
    out = {"temperature": sp.temperature, "top_p": sp.top_p, "seed": sp.seed,
           "max_tokens": limit, "reasoning_effort": sp.reasoning_effort}
    return {k: v for k, v in out.items() if v is not None}


def to_scorer(raw: Mapping[str, Any], index: int, items: Sequence[Mapping[str, Any]], *,
              trusted: bool, runner: Any) -> Scorer:
    """testing_criteria[index] as a scorer (InvalidExport names what is wrong and where)."""
    where = f"testing_criteria[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidExport(f"a testing criterion is a grader object, not "
                            f"{type(raw).__name__}", where=where)
    kind = raw.get("type")
    if kind == "multi":
        raise InvalidExport("a multi grader (graders combined by calculate_output) is not "
                            "supported; list its graders as testing criteria of their own",
                            where=f"{where}.type")
    if kind not in shapes.GRADERS:
        raise InvalidExport(f"unknown grader type {kind!r}; the types are "
                            f"{', '.join(shapes.GRADERS)}", where=f"{where}.type")
    g = shapes.parse(shapes.GRADERS[str(kind)], raw, where)
    try:
        return _build(g, where, items, trusted, runner)
    except InvalidScorer as e:
        raise InvalidExport(str(e), where=where) from None


def _build(g: shapes.Grader, where: str, items: Sequence[Mapping[str, Any]], trusted: bool,
           runner: Any) -> Scorer:
    if isinstance(g, shapes.StringCheckGrader | shapes.TextSimilarityGrader):
        inp = _template(g.input, f"{where}.input", items).text
        ref = _template(g.reference, f"{where}.reference", items).text
        if isinstance(g, shapes.StringCheckGrader):
            if inp != ANSWER and ref == ANSWER and g.operation in ("eq", "ne"):
                inp, ref = ref, inp  # eq and ne do not care which side the answer is on
            if inp == ANSWER:
                return _OPS[g.operation](ref, name=g.name)
            return InputStringCheck(name=g.name, input=inp, reference=ref,
                                    operation=g.operation)
        if inp == ANSWER:
            return s.similarity(ref, metric=g.evaluation_metric, threshold=g.pass_threshold,
                                name=g.name)
        return InputSimilarity(name=g.name, input=inp, reference=ref,
                               metric=g.evaluation_metric, threshold=g.pass_threshold)
    if isinstance(g, shapes.PythonGrader):
        return UntrustedPython(name=g.name, source=g.source, trusted=trusted, runner=runner,
                               threshold=DEFAULT_PASS if g.pass_threshold is None
                               else g.pass_threshold)
    prompt, system, images = _messages(g.input, f"{where}.input", items)
    if isinstance(g, shapes.ScoreModelGrader):
        return s.judge(prompt, model=g.model, range=g.range or (0.0, 1.0),
                       threshold=g.pass_threshold, system=system, name=g.name, images=images,
                       **judge_params(g.sampling_params))
    return s.label(prompt, labels=g.labels, passing=g.passing_labels, model=g.model,
                   system=system, name=g.name, images=images)


def to_scorers(criteria: Sequence[Any], items: Sequence[Mapping[str, Any]], *,
               trusted: bool, runner: Any) -> list[Scorer]:
    out = [to_scorer(raw, i, items, trusted=trusted, runner=runner)
           for i, raw in enumerate(criteria)]
    seen: dict[str, int] = {}
    for i, sc in enumerate(out):
        if sc.name in seen:
            raise InvalidExport(f"two graders are named {sc.name!r} (also "
                                f"testing_criteria[{seen[sc.name]}]); names must differ",
                                where=f"testing_criteria[{i}].name")
        seen[sc.name] = i
    return out
