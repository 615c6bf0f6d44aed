"""Reading exports: a path, a JSON string or a dict; JSONL files of {"item": ...} lines;
output_items pages (GET /v1/evals/{id}/runs/{run_id}/output_items) as a baseline frame."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbplayground.evaluation.openai_import import shapes
from nbplayground.evaluation.openai_import.errors import InvalidExport

if TYPE_CHECKING:
    import pandas as pd


def _text(value: Any, what: str) -> str | None:
    """The text of a path or a JSON/JSONL string; None for other values."""
    if isinstance(value, os.PathLike) or (isinstance(value, str) and value.strip()[:1]
                                          not in ("{", "[")):
        p = Path(os.fspath(value)).expanduser()
        if not p.is_file():
            raise InvalidExport(f"{os.fspath(value)!r} is not a file; pass the path of the "
                                "exported JSON, the JSON text itself or a dict", where=what)
        return p.read_text(encoding="utf-8")
    return value if isinstance(value, str) else None


def load_json(value: Any, what: str) -> Any:
    """`value` (a path, JSON text, or already a dict/list) as JSON data."""
    text = _text(value, what)
    if text is None:
        if isinstance(value, Mapping | list):
            return value
        raise InvalidExport(f"expected a path, a JSON string or a dict, not "
                            f"{type(value).__name__}", where=what)
    try:
        return json.loads(text)
    except ValueError as e:
        raise InvalidExport(f"is not JSON ({e})", where=what) from None


def load_lines(value: Any, what: str) -> list[Any]:
    """JSONL (a path or text; a JSON array too) or a list, as a list of JSON values."""
    text = _text(value, what)
    if text is None:
        if isinstance(value, Sequence) and not isinstance(value, str):
            return list(value)
        raise InvalidExport(f"expected a JSONL path, JSONL text or a list, not "
                            f"{type(value).__name__}", where=what)
    stripped = text.lstrip()
    if stripped.startswith("["):
        return list(load_json(text, what))
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise InvalidExport(f"is not JSON ({e})", where=f"{what} line {n}") from None
    return out


def load_rows(value: Any, what: str = "items") -> list[tuple[dict[str, Any], Any]]:
    """The data source's rows: lines of {"item": {...}} with the "sample" beside it when
    there is one (a jsonl run's pre-generated answer); plain item dicts are accepted too."""
    rows: list[tuple[dict[str, Any], Any]] = []
    for n, row in enumerate(load_lines(value, what), start=1):
        if isinstance(row, Mapping) and isinstance(row.get("item"), Mapping):
            rows.append((dict(row["item"]), row.get("sample")))
        elif isinstance(row, Mapping) and "item" not in row:
            rows.append((dict(row), None))
        else:
            raise InvalidExport('each line is {"item": {...}}', where=f"{what} line {n}")
    return rows


def load_items(value: Any, what: str = "items") -> list[dict[str, Any]]:
    """The data source's items (load_rows without the samples)."""
    return [item for item, _ in load_rows(value, what)]


def _named(result: str, graders: Sequence[str]) -> str:
    """A result's grader: OpenAI names results by the criterion's id, "<name>-<uuid>"."""
    if result in graders:
        return result
    return next((g for g in graders if result.startswith(g + "-")), result)


def baseline_frame(value: Any, graders: Sequence[str] = (), what: str = "output_items"
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The original run's output items, one row per item: datasource_item_id, model,
    response, status, a column per grader (its score), and passed (every grader passed);
    and beside it, whether each grader passed (same rows, a column per grader)."""
    import pandas as pd

    data = load_json(value, what) if not isinstance(value, list) else value
    if isinstance(data, Mapping) and data.get("object") == "list":
        data = data.get("data")
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise InvalidExport("expected the output_items list ({'object': 'list', 'data': "
                            "[...]}) or a list of output items", where=what)
    rows = []
    verdicts: list[dict[str, Any]] = []
    names: list[str] = []
    for i, raw in enumerate(data):
        item = shapes.parse(shapes.OutputItem, raw, f"{what}[{i}]")
        sample = item.sample
        out = sample.output if sample else []
        row: dict[str, Any] = {
            "datasource_item_id": item.datasource_item_id,
            "model": sample.model if sample else None,
            "response": next((o.get("content") for o in out if o.get("content") is not None),
                             None),
            "status": item.status}
        verdict: dict[str, Any] = {"model": row["model"]}
        for r in item.results:
            name = _named(r.name, graders)
            if name not in names:
                names.append(name)
            row[name], verdict[name] = r.score, r.passed
        verdicts.append(verdict)
        row["passed"] = bool(item.results) and all(r.passed for r in item.results)
        rows.append(row)
    columns = ["datasource_item_id", "model", "response", "status", *names, "passed"]
    frame = pd.DataFrame(rows, columns=columns)
    for n in names:
        frame[n] = frame[n].astype("float64")
    order = frame["datasource_item_id"].argsort(kind="stable")
    passed = pd.DataFrame(verdicts, columns=["model", *names]).iloc[order]
    return (frame.iloc[order].reset_index(drop=True), passed.reset_index(drop=True))
