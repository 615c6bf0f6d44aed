"""The deterministic scorers: string checks, regex, JSON, text similarity, and their base class
(python functions are in python_check.py, cost and latency in call_checks.py).

Each is a frozen, validated value object; `grade(answer)` is pure; a sweep grades each batch of
finished cells as it is written.
String checks follow OpenAI's string_check (eq, ne, like = contains, ilike = case-insensitive).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from nbplayground.evaluation import metrics, wordnet
from nbplayground.evaluation.ports import Embedder
from nbplayground.evaluation.score import PASSED, Grade, InvalidScorer
from nbplayground.evaluation.templates import Answer, Template

Operation = Literal["eq", "ne", "like", "ilike"]


def _clip(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")


class Scorer(BaseModel):
    """A named check of one answer; `weight` counts in the weighted mean of a cell's scores."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    kind: ClassVar[str] = "python"
    is_judge: ClassVar[bool] = False
    name: str
    weight: float = 1.0

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip() or v in ("passed", "answer") or "\x00" in v:
            raise ValueError(f"name must be a non-empty name other than 'passed', not {v!r}")
        return v

    @field_validator("weight")
    @classmethod
    def _weight(cls, v: float) -> float:
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"weight must be a finite number ≥ 0, not {v!r}")
        return v

    def columns(self) -> set[str]:
        """The vars columns this scorer's templates read."""
        return set()

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, validated again: e.g. a judge's
        `j.replace(model="gpt-4.1-mini", params={"temperature": 0.2})`."""
        try:
            return self.model_validate({**self.model_dump(by_alias=True), **changes})
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(map(str, err["loc"])) or self.name
            raise InvalidScorer(f"{self.name}.replace(): {where}: "
                                f"{err['msg'].removeprefix('Value error, ')}") from None

    def reference_text(self, answer: Answer) -> str | None:
        """What the answer was held against, filled in (None: the scorer has no reference)."""
        template: Template | None = getattr(self, "_template", None)
        return None if template is None else template.render(answer)

    def grade(self, answer: Answer) -> Grade:
        raise NotImplementedError

    def grader(self, embedder: Embedder | None = None) -> Callable[[Answer], Grade]:
        """`grade` as a function with the scorer's settings bound, for grading many answers
        (a pydantic private attribute costs microseconds at each read; a closure's do not)."""
        return self.grade


class StringCheck(Scorer):
    kind: ClassVar[str] = "string_check"
    reference: str
    operation: Operation = "eq"
    strip: bool = True
    """Surrounding whitespace (a model's trailing newline) is not part of the answer."""
    _template: Template = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._template = Template.parse(self.reference)

    def columns(self) -> set[str]:
        return self._template.columns

    def grade(self, answer: Answer) -> Grade:
        return self.grader()(answer)

    def grader(self, embedder: Embedder | None = None) -> Callable[[Answer], Grade]:
        render, strip, op = self._template.renderer(), self.strip, self.operation
        fold = op == "ilike"
        said = {"eq": "the answer is not", "ne": "the answer equals",
                "like": "the answer does not contain",
                "ilike": "the answer does not contain (ignoring case)"}[op]

        def grade(answer: Answer) -> Grade:
            ref, text = render(answer), answer.text
            if strip:
                ref, text = ref.strip(), text.strip()
            if fold:
                ok = ref.casefold() in text.casefold()
            else:
                ok = text == ref if op == "eq" else text != ref if op == "ne" else ref in text
            if ok:
                return PASSED
            # The reference, not the answer: reports show the answer beside the reason.
            return Grade(0.0, False, f"{said} {_clip(ref)}")

        return grade


class CaseInsensitiveEq(StringCheck):
    """exact(..., case=False): equality after casefolding (OpenAI has no such operation; it is
    exported as ilike on both sides' casefolded text)."""

    def grader(self, embedder: Embedder | None = None) -> Callable[[Answer], Grade]:
        render, strip = self._template.renderer(), self.strip

        def grade(answer: Answer) -> Grade:
            ref, text = render(answer), answer.text
            if strip:
                ref, text = ref.strip(), text.strip()
            if text.casefold() == ref.casefold():
                return PASSED
            return Grade(0.0, False, f"the answer is not {_clip(ref)} (ignoring case)")

        return grade


class Regex(Scorer):
    kind: ClassVar[str] = "regex"
    pattern: str
    ignore_case: bool = False
    _compiled: re.Pattern[str] = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        try:
            self._compiled = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)
        except re.error as e:
            raise InvalidScorer(f"regex {self.pattern!r} does not compile: {e}") from None

    def grade(self, answer: Answer) -> Grade:
        return self.grader()(answer)

    def grader(self, embedder: Embedder | None = None) -> Callable[[Answer], Grade]:
        search = self._compiled.search
        unmatched = Grade(0.0, False, f"the answer does not match {self.pattern!r}")

        def grade(answer: Answer) -> Grade:
            return PASSED if search(answer.text) else unmatched

        return grade


class JsonValid(Scorer):
    kind: ClassVar[str] = "json"

    def grade(self, answer: Answer) -> Grade:
        why = answer.not_json()  # parsing is the check
        return PASSED if why is None else Grade(0.0, False, why)


class JsonSchema(Scorer):
    kind: ClassVar[str] = "json"
    schema_: Any = Field(alias="schema")
    _check: Callable[[Any], None] = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        target = self.schema_
        if isinstance(target, type) and issubclass(target, BaseModel):
            model = target

            def check_model(value: Any) -> None:
                model.model_validate(value)

            self._check = check_model
        elif isinstance(target, dict):
            import jsonschema

            try:
                validator_cls = jsonschema.validators.validator_for(target)
                validator_cls.check_schema(target)
            except jsonschema.SchemaError as e:
                raise InvalidScorer(f"json_schema got an invalid JSON schema: {e.message}"
                                    ) from None
            validator = validator_cls(target)

            def check_schema(value: Any) -> None:
                error = jsonschema.exceptions.best_match(validator.iter_errors(value))
                if error is not None:
                    where = "/".join(map(str, error.absolute_path)) or "the answer"
                    raise ValueError(f"{where}: {error.message}")

            self._check = check_schema
        else:
            raise InvalidScorer("json_schema takes a pydantic model class or a JSON-schema "
                                f"dict, not {type(target).__name__}")

    def grade(self, answer: Answer) -> Grade:
        return self.grader()(answer)

    def grader(self, embedder: Embedder | None = None) -> Callable[[Answer], Grade]:
        check = self._check

        def grade(answer: Answer) -> Grade:
            try:
                check(answer.parsed)
            except ValueError as e:  # pydantic's ValidationError is a ValueError
                return Grade(0.0, False, " ".join(str(e).split())[:300])
            return PASSED

        return grade


class Similarity(Scorer):
    kind: ClassVar[str] = "text_similarity"
    reference: str
    metric: str = "fuzzy_match"
    threshold: float = 0.5
    _template: Template = PrivateAttr()

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        if v not in metrics.METRICS:
            raise ValueError(f"metric must be one of {', '.join(metrics.METRICS)}, not {v!r}")
        return v

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:  # cosine too: its negatives score 0
            raise ValueError(f"threshold must be between 0 and 1 (similarities are), not {v!r}")
        return v

    @field_validator("reference")
    @classmethod
    def _reference(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reference is empty: give the text (or a template such as "
                             "'{capital}') the answer is compared with")
        return v

    @property
    def embeds(self) -> bool:
        """True when grading needs embeddings (cosine)."""
        return self.metric == "cosine"

    def model_post_init(self, context: Any) -> None:
        self._template = Template.parse(self.reference)
        if self.metric == "meteor":
            wordnet.require()

    def columns(self) -> set[str]:
        return self._template.columns

    def bind(self, embedder: Embedder | None) -> Callable[[str, str], float]:
        """The metric function; cosine needs the embeddings port (MetricUnavailable without)."""
        return metrics.metric(self.metric, embedder)

    def grade(self, answer: Answer, fn: Callable[[str, str], float] | None = None) -> Grade:
        return self._grader(fn or metrics.metric(self.metric))(answer)

    def grader(self, embedder: Embedder | None = None) -> Callable[[Answer], Grade]:
        return self._grader(self.bind(embedder))

    def _grader(self, fn: Callable[[str, str], float]) -> Callable[[Answer], Grade]:
        render, metric, threshold = self._template.renderer(), self.metric, self.threshold
        below = f" < {threshold:g} against "

        def grade(answer: Answer) -> Grade:
            ref = render(answer)
            value = fn(answer.text.strip(), ref.strip())
            if value >= threshold:
                return Grade(value, True)
            return Grade(value, False, f"{metric} {value:.3f}{below}{_clip(ref)}")

        return grade
