"""Judges and labels: scorers whose verdict is another model's answer, read through structured
output.

A judge's request is an experiment of its own (sent, cached, priced and logged by the sweep
engine) with response_format = the verdict's JSON schema, so the provider (OpenAI's strict
schemas, llama.cpp's grammar) holds the answer to it; this module builds the prompt and the
schema and reads the parsed verdict. It does no I/O and never reads numbers out of prose.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
)

from nbplayground.evaluation.score import Grade, InvalidScorer
from nbplayground.evaluation.scorers import Scorer
from nbplayground.evaluation.templates import Answer, Template

JUDGE_DEFAULTS: dict[str, Any] = {"temperature": 0.0, "max_tokens": 256}
"""A judge's request unless its params say otherwise: repeatable verdicts, a bounded price."""
PROBE_IMAGE = "https://example.com/judge-input.png"


class _Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)
    score: float
    reason: str = ""


class _Labelled(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    reason: str = ""


def _verdict_schema(field: str, value: dict[str, Any]) -> dict[str, Any]:
    """The strict JSON schema of a verdict: `field` (the score or label) and a reason."""
    return {"type": "object", "properties": {field: value, "reason": {"type": "string"}},
            "required": [field, "reason"], "additionalProperties": False}


_STRICT = ConfigDict(extra="forbid", strict=True)


@functools.lru_cache(maxsize=64)
def score_verdict(lo: float, hi: float) -> type[BaseModel]:
    """The score verdict's schema as a strict pydantic model, which the judge's answer is
    checked against: pydantic-core takes ~2 µs an answer, where jsonschema took ~20 µs (and
    2 s to import, at a process's first judge)."""
    return create_model("Verdict", __config__=_STRICT, score=(float, Field(ge=lo, le=hi)),
                        reason=(str, ...))


@functools.lru_cache(maxsize=64)
def label_verdict(labels: tuple[str, ...]) -> type[BaseModel]:
    """The label verdict's schema as a strict pydantic model (see score_verdict)."""
    one_of: Any = Literal[labels]
    return create_model("Verdict", __config__=_STRICT, label=(one_of, ...), reason=(str, ...))


class ModelGrader(Scorer):
    """What judges and labels share: the rubric template, the judging model and its request."""

    is_judge: ClassVar[bool] = True
    prompt: str
    model: str
    system: str | None = None
    provider: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    images: tuple[str, ...] = ()
    """Image URL templates ({image_url}, a data or http URL) the judge sees with the rubric."""
    image_detail: tuple[str | None, ...] = ()
    """Each image's detail (auto, low, high; None: not sent), when given."""
    _template: Template = PrivateAttr()
    _images: tuple[Template, ...] = PrivateAttr()

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("model must name the model that judges, e.g. model='gpt-4o-mini'")
        return v

    def model_post_init(self, context: Any) -> None:
        self._template = Template.parse(self.prompt, "the judge's prompt")
        self._images = tuple(Template.parse(u, f"images[{i}]")
                             for i, u in enumerate(self.images))
        bad = [d for d in self.image_detail if d not in (None, "auto", "low", "high")]
        if bad or len(self.image_detail) > len(self.images):
            raise InvalidScorer(f"image_detail gives each image's detail (auto, low, high or "
                                f"None), not {list(self.image_detail)!r}")

    def columns(self) -> set[str]:
        return self._template.columns.union(*(t.columns for t in self._images))

    def answer_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def verdict_model(self) -> type[BaseModel]:
        """answer_schema as a pydantic model (the answer is parsed into it)."""
        raise NotImplementedError

    def instruction(self) -> str:
        """The line after the rubric saying what to answer (the schema holds the answer to it;
        small models judge better when the words say it too)."""
        raise NotImplementedError

    def response_format(self) -> dict[str, Any]:
        """The judge request's response_format: the verdict's JSON schema, strict."""
        return {"type": "json_schema", "name": "verdict", "schema": self.answer_schema(),
                "strict": True}

    def request_params(self) -> dict[str, Any]:
        """Every parameter of the judge's request: the defaults, its params, the schema."""
        return {**JUDGE_DEFAULTS, **self.params, "response_format": self.response_format()}

    def request_prompt(self, answer: Answer) -> str | list[dict[str, Any]]:
        """The judge's user message for one answer: the rubric filled in, then what to answer
        (with its images filled in after the text, a turn of parts)."""
        text = f"{self._template.render(answer)}\n\n{self.instruction()}"
        urls = [t.render(answer) for t in self._images]
        return self._turn(text, urls, self.image_detail) if urls else text

    def probe_prompt(self) -> str | list[dict[str, Any]]:
        """The bare rubric (with a stand-in image URL for each image, never fetched): checked
        before a sweep sends anything, so a judge that cannot see images is refused then."""
        return self._turn(self.prompt, [PROBE_IMAGE] * len(self.images), self.image_detail) \
            if self.images else self.prompt

    @staticmethod
    def _turn(text: str, urls: list[str], details: tuple[str | None, ...]
              ) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
        for i, u in enumerate(urls):
            if not u.strip():
                raise ValueError("an image URL of the judge's input is empty for this row")
            detail = details[i] if i < len(details) else None
            parts.append({"type": "image_url", "image_url": {
                "url": u, **({"detail": detail} if detail is not None else {})}})
        return [{"role": "user", "content": parts}]

    def read(self, parsed: Any) -> Grade:
        """The parsed answer of the judge's request (response_format made it JSON of the
        schema) → a Grade; anything else is an error score."""
        if parsed is None:
            return Grade(None, False, "the judge's answer has no parsed verdict")
        return self.verdict(parsed)

    def verdict(self, data: Any) -> Grade:
        raise NotImplementedError

    def grade(self, answer: Answer) -> Grade:
        raise TypeError("a judge's grade comes from its own request; the sweep engine sends it")


class Judge(ModelGrader):
    """OpenAI's score_model: {"score": number in range, "reason": string}."""

    kind: ClassVar[str] = "score_model"
    range: tuple[float, float] = (0.0, 1.0)
    threshold: float | None = None

    @field_validator("range")
    @classmethod
    def _range(cls, v: tuple[float, float]) -> tuple[float, float]:
        lo, hi = v
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"range must be (low, high) with low < high, not {v!r}")
        return v

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        lo, hi = self.range
        if self.threshold is not None and not lo <= self.threshold <= hi:
            raise InvalidScorer(f"threshold must be within range={self.range}, not "
                                f"{self.threshold!r}")

    @property
    def pass_at(self) -> float:
        lo, hi = self.range
        return self.threshold if self.threshold is not None else (lo + hi) / 2

    def instruction(self) -> str:
        lo, hi = self.range
        return (f"Answer with JSON: \"score\", a number from {lo:g} to {hi:g}, and "
                "\"reason\", one sentence.")

    def answer_schema(self) -> dict[str, Any]:
        lo, hi = self.range
        return _verdict_schema("score", {"type": "number", "minimum": lo, "maximum": hi})

    def verdict_model(self) -> type[BaseModel]:
        return score_verdict(*self.range)

    def verdict(self, data: Any) -> Grade:
        try:
            v = _Verdict.model_validate(data)
        except ValidationError as e:
            return Grade(None, False, f"the judge's JSON is not {{score, reason}}: "
                                      f"{e.errors()[0]['msg']}")
        lo, hi = self.range
        if not (math.isfinite(v.score) and lo <= v.score <= hi):
            return Grade(None, False, f"the judge's score {v.score} is outside {self.range}")
        return Grade(v.score, v.score >= self.pass_at, v.reason or None)


class Label(ModelGrader):
    """OpenAI's label_model: {"label": one of labels, "reason": string}; passing labels pass."""

    kind: ClassVar[str] = "label_model"
    labels: tuple[str, ...]
    passing: tuple[str, ...]

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise InvalidScorer(f"labels must be two or more distinct labels, not "
                                f"{list(self.labels)!r}")
        unknown = [p for p in self.passing if p not in self.labels]
        if not self.passing or unknown:
            raise InvalidScorer(f"passing must name one or more of labels={list(self.labels)}"
                                f"{'; not ' + ', '.join(map(repr, unknown)) if unknown else ''}")

    def instruction(self) -> str:
        return (f"Answer with JSON: \"label\", one of {', '.join(self.labels)}, and "
                "\"reason\", one sentence.")

    def answer_schema(self) -> dict[str, Any]:
        return _verdict_schema("label", {"type": "string", "enum": list(self.labels)})

    def verdict_model(self) -> type[BaseModel]:
        return label_verdict(self.labels)

    def verdict(self, data: Any) -> Grade:
        try:
            v = _Labelled.model_validate(data)
        except ValidationError as e:
            return Grade(None, False, f"the judge's JSON is not {{label, reason}}: "
                                      f"{e.errors()[0]['msg']}")
        if v.label not in self.labels:
            return Grade(None, False, f"the judge's label {v.label!r} is not one of "
                                      f"{list(self.labels)}")
        ok = v.label in self.passing
        return Grade(1.0 if ok else 0.0, ok, f"{v.label}: {v.reason}" if v.reason else v.label)
