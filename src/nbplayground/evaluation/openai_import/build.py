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
from nbplayground.evaluation.openai_import.mustache import check_paths, convert, message_text
from nbplayground.evaluation.openai_import.reading import baseline_frame, load_items, load_json

_SOURCE = "run.data_source.source"


def _items(run: shapes.Run | None, items: Any) -> tuple[list[dict[str, Any]], str]:
    """The items and where they came from (for error messages)."""
    if items is not None:
        return load_items(items), "items"
    if run is None:
        return [], "items"
    src = run.data_source.source
    if src.type == "file_content":
        return [dict(row.item) for row in src.content or []], f"{_SOURCE}.content"
    if src.type == "file_id":
        raise InvalidExport(f"the items are in OpenAI file {src.id!r}, which the export does "
                            "not hold; download it (a JSONL of {\"item\": ...} lines) and "
                            "pass items='that.jsonl'", where=f"{_SOURCE}.id")
    raise InvalidExport(f"a {src.type} source queries logs kept by OpenAI; export them as "
                        "JSONL of {\"item\": ...} lines and pass items=", where=f"{_SOURCE}.type")


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


def _response_format(sp: shapes.SamplingParams, api: str) -> Any:
    fmt = sp.response_format if api == "chat" else (sp.text.format if sp.text else None)
    fmt = fmt or sp.response_format or (sp.text.format if sp.text else None)
    if not fmt or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return "json_object"
    inner = fmt.get("json_schema", fmt)  # chat nests it; Responses does not
    return {"type": "json_schema", "name": inner.get("name") or "answer",
            "schema": inner.get("schema"), "strict": bool(inner.get("strict", False))}


def _tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    for i, t in enumerate(tools or []):
        if t.get("type", "function") != "function":
            raise InvalidExport(f"built-in tool {t.get('type')!r} is not supported; only "
                                "function tools", where=f"run.data_source.sampling_params."
                                                        f"tools[{i}].type")
    return list(tools) if tools else None


def params_of(ds: shapes.DataSource) -> dict[str, Any]:
    """The run's sampling_params as request fields (api from the data source type)."""
    api = "responses" if ds.type == "responses" else "chat"
    sp = ds.sampling_params or shapes.SamplingParams()
    out = {"api": api, "temperature": sp.temperature, "top_p": sp.top_p, "seed": sp.seed,
           "max_tokens": sp.max_completion_tokens or sp.max_completions_tokens,
           "reasoning_effort": sp.reasoning_effort,
           "response_format": _response_format(sp, api), "tools": _tools(sp.tools)}
    return {k: v for k, v in out.items() if v is not None}


def prompt_of(run: shapes.Run, items: Sequence[Mapping[str, Any]], name: str
              ) -> PromptVersion | None:
    """The run's input_messages as a PromptVersion ({{item.x}} -> {x})."""
    ds = run.data_source
    where = "run.data_source.input_messages"
    im = ds.input_messages
    if im is None:
        if ds.type == "jsonl":
            return None  # the samples were given, not generated: nothing to re-run
        raise InvalidExport(f"a {ds.type} run needs input_messages (a template)", where=where)
    system: list[str] = []
    user: list[str] = []
    if isinstance(im, shapes.ItemReference):
        ref = im.item_reference.strip().removeprefix("{{").removesuffix("}}").strip()
        conv = convert("{{" + ref + "}}", f"{where}.item_reference", sample=False)
        check_paths(conv, items, f"{where}.item_reference")
        value = next((it.get(conv.item_paths[0]) for it in items), "")
        if not isinstance(value, str):
            raise InvalidExport(f"{ref} holds {type(value).__name__}; only a reference to a "
                                "text field (the user message) is supported yet",
                                where=f"{where}.item_reference")
        user.append(conv.text)
    else:
        for i, m in enumerate(im.template):
            at = f"{where}.template[{i}]"
            if m.role == "assistant":
                raise InvalidExport("assistant turns in the template (few-shot examples) "
                                    "are not supported yet: a prompt is a system and a user "
                                    "message", where=f"{at}.role")
            conv = convert(message_text(m.content, f"{at}.content"), f"{at}.content",
                           sample=False)
            check_paths(conv, items, f"{at}.content")
            (system if m.role in ("system", "developer") else user).append(conv.text)
        if not user:
            raise InvalidExport("the template has no user message", where=f"{where}.template")
    return PromptVersion(name=name, template="\n\n".join(user),
                         system="\n\n".join(system) if system else None,
                         model=ds.model or run.model, params=params_of(ds))


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
    rows, source = _items(r, items)
    _check_schema(ev.data_source_config.items_schema(), rows, source)
    checked = rows or [_skeleton(ev.data_source_config.items_schema())]
    scorers = to_scorers(ev.testing_criteria, checked, trusted=trust_python, runner=runner)
    name = (ev.name or ev.id or "imported eval").strip() or "imported eval"
    prompt = prompt_of(r, checked, name) if r is not None else None
    if prompt is not None and save is not None:
        prompt = save(prompt.name, prompt.template, prompt.system, prompt.model,
                      **prompt.params)
    baseline, passed = (baseline_frame(output_items, [sc.name for sc in scorers])
                        if output_items is not None else (None, None))
    return ImportedEval(name=name, eval_id=ev.id, run_id=r.id if r else None,
                        data=pd.DataFrame.from_records(rows) if rows else pd.DataFrame(),
                        prompt=prompt, scorers=scorers, baseline=baseline,
                        baseline_passed=passed, sweep=sweep, runner=runner)
