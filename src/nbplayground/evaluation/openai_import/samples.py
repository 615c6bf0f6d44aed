"""Pre-generated samples as a baseline: a jsonl run's {"item", "sample"} rows graded where
they are, with the eval's graders, sending nothing (model graders and cosine stay unscored)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.evaluation.openai_import.errors import InvalidExport
from nbplayground.evaluation.openai_import.untrusted import UntrustedPython, item_of
from nbplayground.evaluation.scorers import Scorer, Similarity
from nbplayground.evaluation.templates import Answer

if TYPE_CHECKING:
    import pandas as pd

UNSCORED = "not scored: the baseline is graded without sending anything"


def _calls(tools: Any, where: str) -> tuple[dict[str, Any], ...]:
    out = []
    for i, t in enumerate(tools or []):
        fn = t.get("function", t) if isinstance(t, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            raise InvalidExport("a tool call is {id, type: function, function: {name, "
                                "arguments}}", where=f"{where}[{i}]")
        args = fn.get("arguments", {})
        try:
            args = json.loads(args) if isinstance(args, str) else dict(args or {})
        except (TypeError, ValueError):
            args = {"_raw": args}
        out.append({"id": t.get("id", ""), "name": fn["name"], "arguments": args})
    return tuple(out)


def _text(sample: Mapping[str, Any]) -> str | None:
    if isinstance(sample.get("output_text"), str):
        return str(sample["output_text"])
    if sample.get("output_json") is not None:
        return json.dumps(sample["output_json"], ensure_ascii=False)
    for choice in sample.get("choices") or []:
        content = (choice.get("message") or {}).get("content")
        if isinstance(content, str):
            return content
    for out in sample.get("output") or []:  # output_items' and Responses' shapes
        content = out.get("content") if isinstance(out, Mapping) else None
        if isinstance(content, str):
            return content
        for part in content if isinstance(content, list) else []:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                return str(part["text"])
    return None


def sample_answer(sample: Any, item: Mapping[str, Any], where: str) -> Answer:
    """A pre-generated sample ({output_text | output_json | choices | output, output_tools,
    model}) as the Answer the scorers read, the item as its vars row."""
    if not isinstance(sample, Mapping):
        raise InvalidExport("a sample is a dict (output_text, choices, output_tools ...)",
                            where=where)
    text = _text(sample)
    if text is None and not (sample.get("output_tools") or sample.get("choices")):
        raise InvalidExport("the sample has no output_text, output_json, choices or output",
                            where=where)
    tools = sample.get("output_tools")
    if tools is None:
        tools = next(((c.get("message") or {}).get("tool_calls") for c in
                      sample.get("choices") or [] if isinstance(c, Mapping)), None)
    error = sample.get("error")
    return Answer(text or "", row=item_of(item), ok=not error,
                  error=json.dumps(error) if error else None,
                  tool_calls=_calls(tools, f"{where}.output_tools"))


def _grade(scorer: Scorer, answer: Answer) -> tuple[float | None, bool | None]:
    if scorer.is_judge or (isinstance(scorer, Similarity) and scorer.embeds) or (
            isinstance(scorer, UntrustedPython) and not scorer.trusted):
        return None, None
    if not answer.ok:
        return 0.0, False
    try:
        g = scorer.grade(answer)
    except ValueError:  # {answer.field} of a non-JSON answer, a path the sample lacks
        return 0.0, False
    return (0.0 if g.score is None else g.score), g.passed


def samples_baseline(rows: Sequence[tuple[Mapping[str, Any], Any]], scorers: Sequence[Scorer],
                     where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per sample, in baseline_frame's columns (datasource_item_id, model, response,
    status, a score per grader, passed: every grader that could be scored passed) and the
    passed frame beside it. Judges, cosine and untrusted python are NaN ("not scored")."""
    import pandas as pd

    names = [s.name for s in scorers]
    frame_rows, verdicts = [], []
    for i, (item, sample) in enumerate(rows):
        answer = sample_answer(sample, item, f"{where}[{i}].sample")
        row: dict[str, Any] = {"datasource_item_id": i, "model": sample.get("model"),
                               "response": answer.text,
                               "status": "completed" if answer.ok else "error"}
        verdict: dict[str, Any] = {"model": row["model"]}
        for s in scorers:
            row[s.name], verdict[s.name] = _grade(s, answer)
        row["passed"] = all(verdict[n] is not False for n in names)
        frame_rows.append(row)
        verdicts.append(verdict)
    frame = pd.DataFrame(frame_rows, columns=["datasource_item_id", "model", "response",
                                              "status", *names, "passed"])
    for n in names:
        frame[n] = frame[n].astype("float64")
    return frame, pd.DataFrame(verdicts, columns=["model", *names])
