"""A run's input_messages and sampling_params as a PromptVersion: a system and a user
message, a conversation of turns (assistant turns, images, audio, files), or a placeholder
for the conversation each item holds (item_reference)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nbplayground.domain.prompts import PromptVersion
from nbplayground.evaluation.openai_import import shapes
from nbplayground.evaluation.openai_import.errors import InvalidExport
from nbplayground.evaluation.openai_import.mustache import Converted, check_paths, convert
from nbplayground.evaluation.templates import resolve


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


_TEXT = ("input_text", "output_text", "text")


def _templated(text: Any, where: str, items: Sequence[Mapping[str, Any]]) -> str:
    if not isinstance(text, str):
        raise InvalidExport(f"expected text, not {type(text).__name__}", where=where)
    conv: Converted = convert(text, where, sample=False)
    check_paths(conv, items, where)
    return conv.text


def _part(part: Any, where: str, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One content part of a template, its {{item.x}} as {x} (in texts, image URLs, audio
    data and files alike)."""
    if isinstance(part, str):
        return {"type": "input_text", "text": _templated(part, where, items)}
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in _TEXT:
        return {"type": "input_text", "text": _templated(part.get("text"), where, items)}
    if kind == "input_image":
        out = {"type": "input_image",
               "image_url": _templated(part.get("image_url"), f"{where}.image_url", items)}
        return out | ({"detail": part["detail"]} if part.get("detail") else {})
    if kind == "input_audio":
        audio = part.get("input_audio")
        if not isinstance(audio, Mapping):
            raise InvalidExport("an input_audio part holds input_audio: {data, format}",
                                where=f"{where}.input_audio")
        return {"type": "input_audio", "input_audio": {
            "data": _templated(audio.get("data"), f"{where}.input_audio.data", items),
            "format": audio.get("format")}}
    if kind == "input_file":
        out = {"type": "input_file"}
        for key in ("file_data", "file_id", "file_url", "filename"):
            if isinstance(part.get(key), str):
                out[key] = _templated(part[key], f"{where}.{key}", items)
        return out
    raise InvalidExport(f"content of type {kind!r} is not supported (input_text, "
                        "output_text, input_image, input_audio, input_file)", where=where)


def _parts(content: Any, where: str, items: Sequence[Mapping[str, Any]]
           ) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return [_part(p, f"{where}[{i}]", items) for i, p in enumerate(content)]
    return [_part(content, where, items)]


def _referenced(ref: str, where: str, items: Sequence[Mapping[str, Any]]
                ) -> tuple[str, bool]:
    """item_reference's field (as {x}) and whether it holds a conversation (a list)."""
    ref = ref.strip().removeprefix("{{").removesuffix("}}").strip()
    conv = convert("{{" + ref + "}}", where, sample=False)
    check_paths(conv, items, where)
    path = conv.item_paths[0]
    value = next((v for found, v in (resolve(it, path) for it in items) if found), "")
    if isinstance(value, list):
        return path, True
    if isinstance(value, str):
        return conv.text, False
    raise InvalidExport(f"{ref} holds {type(value).__name__}; an item_reference names a "
                        "conversation (a list of messages) or a text field", where=where)


def prompt_of(run: shapes.Run, items: Sequence[Mapping[str, Any]], name: str, *,
              pregenerated: bool = False) -> PromptVersion | None:
    """The run's input_messages as a PromptVersion ({{item.x}} -> {x}): text-only system,
    developer and user messages as (template, system); anything else as turns. None for a
    run whose items carry their samples (`pregenerated`) and that has no template."""
    ds = run.data_source
    where = "run.data_source.input_messages"
    im = ds.input_messages
    model, params = ds.model or run.model, params_of(ds)
    if im is None:
        if ds.type == "jsonl" or pregenerated:
            return None  # the samples were given, not generated: nothing to re-run
        raise InvalidExport(f"a {ds.type} run needs input_messages (a template)", where=where)
    if isinstance(im, shapes.ItemReference):
        field, whole = _referenced(im.item_reference, f"{where}.item_reference", items)
        if whole:
            return PromptVersion(name=name, messages=[{"placeholder": field}], model=model,
                                 params=params)
        return PromptVersion(name=name, template=field, model=model, params=params)
    turns: list[dict[str, Any]] = []
    for i, m in enumerate(im.template):
        at = f"{where}.template[{i}].content"
        parts = _parts(m.content, at, items)
        if m.role == "assistant" and any(p["type"] not in _TEXT for p in parts):
            raise InvalidExport("an assistant turn is text only", where=at)
        turns.append({"role": m.role, "content": parts, "text": "\n".join(
            p["text"] for p in parts if p["type"] in _TEXT)})
    if not any(t["role"] == "user" for t in turns):
        raise InvalidExport("the template has no user message", where=f"{where}.template")
    if all(t["role"] != "assistant" and all(p["type"] in _TEXT for p in t["content"])
           for t in turns):
        system = [t["text"] for t in turns if t["role"] in ("system", "developer")]
        user = [t["text"] for t in turns if t["role"] == "user"]
        return PromptVersion(name=name, template="\n\n".join(user),
                             system="\n\n".join(system) if system else None, model=model,
                             params=params)
    return PromptVersion(name=name, messages=[{"role": t["role"], "content": t["content"]}
                                              for t in turns], model=model, params=params)
