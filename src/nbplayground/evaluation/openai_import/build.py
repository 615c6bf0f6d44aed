"""import_eval: an eval's JSON (and a run's, its items, its output items) as an ImportedEval.

Everything is checked here, before anything can be sent: the shapes, the grader types, every
template's fields against the items, the items against the eval's item schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nbplayground.domain.prompts import PromptVersion
from nbplayground.evaluation.openai_import import shapes
from nbplayground.evaluation.openai_import.criteria import to_scorers
from nbplayground.evaluation.openai_import.errors import InvalidExport
from nbplayground.evaluation.openai_import.imported import ImportedEval
from nbplayground.evaluation.openai_import.prompt import prompt_of
from nbplayground.evaluation.openai_import.reading import baseline_frame, load_json, load_rows
from nbplayground.evaluation.openai_import.samples import samples_baseline

_SOURCE = "run.data_source.source"


def _rows(run: shapes.Run | None, items: Any) -> tuple[list[tuple[dict[str, Any], Any]], str]:
    """The items (each with its pre-generated sample, or None) and where they came from."""
    if items is not None:
        return load_rows(items), "items"
    if run is None:
        return [], "items"
    src = run.data_source.source
    if src.type == "file_content":
        return [(dict(row.item), row.sample) for row in src.content or []], \
            f"{_SOURCE}.content"
    if src.type == "file_id":
        raise InvalidExport(f"the items are in OpenAI file {src.id!r}, which the export does "
                            "not hold; download it (a JSONL of {\"item\": ...} lines) and "
                            "pass items='that.jsonl'", where=f"{_SOURCE}.id")
    raise InvalidExport(f"a {src.type} source queries logs kept by OpenAI; export them as "
                        "JSONL of {\"item\": ...} lines and pass items=", where=f"{_SOURCE}.type")


def _pregenerated(run: shapes.Run | None, rows: list[tuple[dict[str, Any], Any]]) -> bool:
    """A run whose items carry their samples and that generates none: type jsonl, or a
    completions run with no model and no input messages."""
    if run is None or not rows or any(sample is None for _, sample in rows):
        return False
    ds = run.data_source
    return ds.type == "jsonl" or (ds.input_messages is None and not (ds.model or run.model))


def _skeleton(schema: Any) -> Any:
    """An item made of the schema's properties (for checking templates when there are no
    items, only the eval's item schema)."""
    if isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        return {k: _skeleton(v) for k, v in schema["properties"].items()}
    return ""


def _check_schema(schema: dict[str, Any] | None, items: Sequence[Mapping[str, Any]],
                  where: str) -> None:
    if not schema or not items:
        return
    import jsonschema

    try:
        validator = jsonschema.validators.validator_for(schema)(schema)
    except jsonschema.SchemaError as e:
        raise InvalidExport(f"the item schema is not a JSON schema: {e.message}",
                            where="data_source_config.schema") from None
    for i, item in enumerate(items):
        error = jsonschema.exceptions.best_match(validator.iter_errors(item))
        if error is not None:
            field = "/".join(map(str, error.absolute_path))
            raise InvalidExport(f"{field + ': ' if field else ''}{error.message} (the eval's "
                                "item schema)", where=f"{where}[{i}]")


def import_eval(eval_json: Any, run: Any = None, items: Any = None, *,
                output_items: Any = None, trust_python: bool = False, runner: Any = None,
                sweep: Callable[..., Any],
                save: Callable[..., PromptVersion] | None = None) -> ImportedEval:
    """The ImportedEval of an export; `sweep` runs it (pg.sweep), `runner` grades python,
    `save` (pg.prompts.save) keeps its prompt as a saved version, once everything is
    checked."""
    import pandas as pd

    data = load_json(eval_json, "eval")
    if isinstance(data, Mapping) and "testing_criteria" not in data:
        raise InvalidExport("the eval has no testing_criteria (the graders); pass the JSON of "
                            "GET /v1/evals/{id}", where="testing_criteria")
    ev = shapes.parse(shapes.Eval, data, "")
    r = shapes.parse(shapes.Run, load_json(run, "run"), "run") if run is not None else None
    pairs, source = _rows(r, items)
    rows = [item for item, _ in pairs]
    given = _pregenerated(r, pairs)
    _check_schema(ev.data_source_config.items_schema(), rows, source)
    checked = rows or [_skeleton(ev.data_source_config.items_schema())]
    scorers = to_scorers(ev.testing_criteria, checked, trusted=trust_python, runner=runner)
    name = (ev.name or ev.id or "imported eval").strip() or "imported eval"
    prompt = prompt_of(r, checked, name, pregenerated=given) if r is not None else None
    if prompt is not None and save is not None:
        prompt = save(prompt.name, None if prompt.messages else prompt.template,
                      prompt.system, prompt.model,
                      messages=list(prompt.messages) or None, **prompt.params)
    baseline, passed = (baseline_frame(output_items, [sc.name for sc in scorers])
                        if output_items is not None else (None, None))
    if baseline is None and given:
        try:
            baseline, passed = samples_baseline(pairs, scorers, source)
        finally:
            if runner is not None:
                runner.close()  # a worker per sweep: the first ev.run starts its own
    return ImportedEval(name=name, eval_id=ev.id, run_id=r.id if r else None,
                        data=pd.DataFrame.from_records(rows) if rows else pd.DataFrame(),
                        prompt=prompt, scorers=scorers, baseline=baseline,
                        baseline_passed=passed, sweep=sweep, runner=runner)
