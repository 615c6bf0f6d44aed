"""Judges and labels: scorers whose verdict is another model's answer, read as strict JSON.

A judge's request is an experiment of its own (sent, cached, priced and logged by the sweep
engine); this module builds its prompt and reads its answer, and does no I/O.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from nbplayground.evaluation.score import Grade
from nbplayground.evaluation.scorers import Scorer
from nbplayground.evaluation.templates import Answer, Template

JSON_ONLY = "Reply with only a JSON object that matches this JSON schema, and nothing else:"
"""The instruction a judge's prompt ends with, followed by the schema on one line. Until
requests carry response_format, it is how the judge (and the simulated provider) learn the
shape of the answer; the answer is still validated, never scraped from prose."""

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class _Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)
    score: float
    reason: str = ""


class _Labelled(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    reason: str = ""


class ModelGrader(Scorer):
    """What judges and labels share: the rubric template, the judging model and its request."""

    is_judge: ClassVar[bool] = True
    prompt: str
    model: str
    system: str | None = None
    provider: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    _template: Template = PrivateAttr()

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("model must name the model that judges, e.g. model='gpt-4o-mini'")
        return v

    def model_post_init(self, context: Any) -> None:
        self._template = Template.parse(self.prompt, "the judge's prompt")

    def columns(self) -> set[str]:
        return self._template.columns

    def answer_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def request_prompt(self, answer: Answer) -> str:
        """The judge's user message for one answer: the rubric filled in, then the schema."""
        schema = json.dumps(self.answer_schema(), separators=(",", ":"))
        return f"{self._template.render(answer)}\n\n{JSON_ONLY}\n{schema}"

    def read(self, text: str) -> Grade:
        """The judge's answer → a Grade; anything but the JSON asked for is an error score."""
        body = text.strip()
        fenced = _FENCE.match(body)
        if fenced:
            body = fenced.group(1)
        try:
            data = json.loads(body)
        except ValueError:
            return Grade(None, False, f"the judge did not answer with JSON: {body[:120]!r}")
        return self.verdict(data)

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
            from nbplayground.evaluation.score import InvalidScorer

            raise InvalidScorer(f"threshold must be within range={self.range}, not "
                                f"{self.threshold!r}")

    @property
    def pass_at(self) -> float:
        lo, hi = self.range
        return self.threshold if self.threshold is not None else (lo + hi) / 2

    def answer_schema(self) -> dict[str, Any]:
        lo, hi = self.range
        return {"type": "object", "properties": {
            "score": {"type": "number", "minimum": lo, "maximum": hi},
            "reason": {"type": "string"}}, "required": ["score", "reason"],
            "additionalProperties": False}

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
        from nbplayground.evaluation.score import InvalidScorer

        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise InvalidScorer(f"labels must be two or more distinct labels, not "
                                f"{list(self.labels)!r}")
        unknown = [p for p in self.passing if p not in self.labels]
        if not self.passing or unknown:
            raise InvalidScorer(f"passing must name one or more of labels={list(self.labels)}"
                                f"{'; not ' + ', '.join(map(repr, unknown)) if unknown else ''}")

    def answer_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {
            "label": {"type": "string", "enum": list(self.labels)},
            "reason": {"type": "string"}}, "required": ["label", "reason"],
            "additionalProperties": False}

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


def example_verdict(prompt: str, salt: str = "") -> str | None:
    """A valid answer to a judge's prompt (or None when `prompt` is not one), a pure function
    of the prompt: what the simulated provider replies to a judge."""
    head, sep, tail = prompt.rpartition(JSON_ONLY)
    if not sep:
        return None
    try:
        schema = json.loads(tail.strip())
        props = schema["properties"]
    except (ValueError, KeyError, TypeError):
        return None
    digest = int(hashlib.sha256((head + salt).encode()).hexdigest()[:8], 16)
    if "label" in props:
        labels = props["label"].get("enum") or ["ok"]
        return json.dumps({"label": labels[digest % len(labels)], "reason": "simulated"})
    lo = float(props.get("score", {}).get("minimum", 0.0))
    hi = float(props.get("score", {}).get("maximum", 1.0))
    score = round(lo + (hi - lo) * (digest % 101) / 100, 2)
    return json.dumps({"score": score, "reason": "simulated verdict"})
