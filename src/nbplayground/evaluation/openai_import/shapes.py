"""Pydantic models of OpenAI's eval exports: GET /v1/evals/{id}, its runs and output items.

They follow openai-python's types (src/openai/types/evals/, graders/); fields an import does
not use are ignored, the ones it uses are checked and their path named when they are wrong.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from nbplayground.domain.tool_turns import is_tool_turn
from nbplayground.evaluation.metrics import METRICS
from nbplayground.evaluation.openai_import.errors import InvalidExport

Role = Literal["user", "assistant", "system", "developer"]
Metric = Literal["cosine", "fuzzy_match", "bleu", "gleu", "meteor", "rouge_1", "rouge_2",
                 "rouge_3", "rouge_4", "rouge_5", "rouge_l"]
assert set(Metric.__args__) == set(METRICS)  # type: ignore[attr-defined]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Message(_Shape):
    """An EvalItem / EasyInputMessage: content is text, one content part or a list of them."""

    role: Role
    content: str | dict[str, Any] | list[Any]
    type: Literal["message"] | None = None


class GraderSampling(_Shape):
    """A score_model's sampling_params; OpenAI spells the token limit max_completions_tokens."""

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    max_completions_tokens: int | None = None
    max_completion_tokens: int | None = None
    reasoning_effort: str | None = None


class StringCheckGrader(_Shape):
    type: Literal["string_check"]
    name: str
    input: str
    reference: str
    operation: Literal["eq", "ne", "like", "ilike"]


class TextSimilarityGrader(_Shape):
    type: Literal["text_similarity"]
    name: str
    input: str
    reference: str
    evaluation_metric: Metric
    pass_threshold: float = Field(ge=0, le=1)


class PythonGrader(_Shape):
    type: Literal["python"]
    name: str
    source: str
    pass_threshold: float | None = None
    image_tag: str | None = None


class ScoreModelGrader(_Shape):
    type: Literal["score_model"]
    name: str
    model: str
    input: list[Message]
    range: tuple[float, float] | None = None
    pass_threshold: float | None = None
    sampling_params: GraderSampling | None = None


class LabelModelGrader(_Shape):
    type: Literal["label_model"]
    name: str
    model: str
    input: list[Message]
    labels: list[str]
    passing_labels: list[str]


Grader = (StringCheckGrader | TextSimilarityGrader | PythonGrader | ScoreModelGrader
          | LabelModelGrader)
GRADERS: dict[str, type[Grader]] = {
    "string_check": StringCheckGrader, "text_similarity": TextSimilarityGrader,
    "python": PythonGrader, "score_model": ScoreModelGrader, "label_model": LabelModelGrader}


class DataSourceConfig(_Shape):
    """custom, logs or stored_completions. A retrieved eval carries `schema` (item and sample
    as properties); the create request's `item_schema` is accepted too."""

    type: Literal["custom", "logs", "stored_completions"]
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    item_schema: dict[str, Any] | None = None

    def items_schema(self) -> dict[str, Any] | None:
        if self.item_schema is not None:
            return self.item_schema
        props = (self.schema_ or {}).get("properties")
        item = props.get("item") if isinstance(props, dict) else None
        return item if isinstance(item, dict) else None


class Eval(_Shape):
    id: str | None = None
    name: str | None = None
    object: Literal["eval"] | None = None
    data_source_config: DataSourceConfig
    testing_criteria: list[dict[str, Any]]


class FileContentRow(_Shape):
    item: dict[str, Any]
    sample: dict[str, Any] | None = None


class Source(_Shape):
    type: Literal["file_content", "file_id", "stored_completions", "responses"]
    content: list[FileContentRow] | None = None
    id: str | None = None


def _turn_kind(value: Any) -> str:
    return "turn[tool]" if isinstance(value, dict) and is_tool_turn(value) else "turn[message]"


class TemplateMessages(_Shape):
    type: Literal["template"]
    template: list[Annotated[Annotated[Message, Tag("turn[message]")]
                             | Annotated[dict[str, Any], Tag("turn[tool]")],
                             Discriminator(_turn_kind)]]
    """Messages, and tool turns (an assistant turn's tool_calls, a tool result, or Responses'
    function_call / function_call_output items) kept as given for domain.tool_turns."""


class ItemReference(_Shape):
    type: Literal["item_reference"]
    item_reference: str


class TextConfig(_Shape):
    format: dict[str, Any] | None = None


class SamplingParams(_Shape):
    """A run's sampling_params, on either API (response_format on chat, text.format on
    Responses) and with both spellings of the token limit."""

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    max_completion_tokens: int | None = None
    max_completions_tokens: int | None = None
    reasoning_effort: str | None = None
    response_format: dict[str, Any] | None = None
    text: TextConfig | None = None
    tools: list[dict[str, Any]] | None = None


class DataSource(_Shape):
    type: Literal["completions", "responses", "jsonl"]
    source: Source
    input_messages: TemplateMessages | ItemReference | None = Field(
        default=None, discriminator="type")
    model: str | None = None
    sampling_params: SamplingParams | None = None


class Run(_Shape):
    id: str | None = None
    eval_id: str | None = None
    name: str | None = None
    model: str | None = None
    object: Literal["eval.run"] | None = None
    data_source: DataSource


class OutputResult(_Shape):
    name: str
    passed: bool
    score: float | None = None
    type: str | None = None


class OutputSample(_Shape):
    model: str | None = None
    output: list[dict[str, Any]] = Field(default_factory=list)
    error: dict[str, Any] | None = None


class OutputItem(_Shape):
    id: str | None = None
    datasource_item_id: int
    datasource_item: dict[str, Any] = Field(default_factory=dict)
    results: list[OutputResult] = Field(default_factory=list)
    sample: OutputSample | None = None
    status: str | None = None


def path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """("testing_criteria", 2, "type") -> "testing_criteria[2].type"."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


M = TypeVar("M", bound=BaseModel)
_MEMBERS = {"str", "int", "float", "bool", "dict", "list"}


def parse(model: type[M], data: Any, where: str) -> M:
    """`data` as `model`, or InvalidExport naming the first field at fault under `where`."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raw = list(err["loc"])
        # pydantic names union members in the location (a discriminator's tag twice, types
        # such as "str" or "list[any]"); the export's own path has none of them
        loc = tuple(p for i, p in enumerate(raw) if not isinstance(p, str) or not (
            p in _MEMBERS or "[" in p or (i + 1 < len(raw) and raw[i + 1] == p)))
        got = "" if err["type"] == "missing" else f" (got {str(err.get('input'))[:60]!r})"
        raise InvalidExport(f"{err['msg'].removeprefix('Value error, ')}{got}",
                            where=path(loc, where)) from None
