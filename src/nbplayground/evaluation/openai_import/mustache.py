"""OpenAI's {{item.x}} / {{sample.output_text}} templates as nbplayground's {x} / {answer}.

{{item.a.b}} -> {a.b} (a nested field, JSON-path-like [0] indexes too), {{sample.output_text}}
and {{sample.output_json}} -> {answer}, {{sample.output_json.f}} -> {answer.f},
{{sample.output_tools}} / {{sample.choices}} (and paths into them) -> {sample.output_tools...};
literal braces are doubled so the result is a format-string template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nbplayground.evaluation.openai_import.errors import InvalidExport
from nbplayground.evaluation.templates import SAMPLE_NAMES, resolve

_TAG = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_INDEX = re.compile(r"\[\s*(?:(\d+)|'([^']*)'|\"([^\"]*)\")\s*\]")


@dataclass(frozen=True)
class Converted:
    """A converted template and the item fields (dotted paths) it reads."""

    text: str
    item_paths: tuple[str, ...]


def _dotted(ref: str) -> str:
    return _INDEX.sub(lambda m: "." + next(g for g in m.groups() if g is not None), ref)


def _escape(literal: str) -> str:
    return literal.replace("{", "{{").replace("}", "}}")


def convert(text: str, where: str, *, sample: bool) -> Converted:
    """`text` as a format-string template; `sample` says whether {{sample.*}} may be read
    (graders: yes; the prompt template: no, the answer is not known yet)."""
    out: list[str] = []
    paths: list[str] = []
    pos = 0
    for m in _TAG.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        pos = m.end()
        ref = _dotted(m.group(1).strip())
        namespace, _, rest = ref.partition(".")
        if namespace == "item":
            if not rest:
                raise InvalidExport("{{item}} is the whole item; name a field, e.g. "
                                    "{{item.question}}", where=where)
            if any(c in rest for c in "{}:!"):
                raise InvalidExport(f"the field name {rest!r} has a character a template "
                                    "cannot hold ({ } : !)", where=where)
            out.append("{" + rest + "}")
            paths.append(rest)
        elif namespace == "sample":
            if not sample:
                raise InvalidExport(
                    f"{{{{{ref}}}}}: the prompt cannot read the model's answer (sample); it "
                    "reads item fields, e.g. {{item.question}}", where=where)
            if rest in ("output_text", "output_json"):
                out.append("{answer}")
            elif rest.startswith("output_json."):
                out.append("{answer." + rest.removeprefix("output_json.") + "}")
            elif rest.split(".")[0] in SAMPLE_NAMES:  # read off the sample itself
                out.append("{sample." + rest + "}")
            else:
                raise InvalidExport(
                    f"{{{{{ref}}}}} is not supported; a grader reads "
                    "{{sample.output_text}}, {{sample.output_json}}, "
                    "{{sample.output_json.<field>}}, {{sample.output_tools}} or "
                    "{{sample.choices}} (nested paths too)", where=where)
        else:
            raise InvalidExport(f"{{{{{ref}}}}}: a template reads the item or sample "
                                "namespace, e.g. {{item.question}} or {{sample.output_text}}",
                                where=where)
    out.append(_escape(text[pos:]))
    return Converted("".join(out), tuple(paths))


def message_text(content: Any, where: str) -> str:
    """A message's content (text, an input_text/output_text part, or a list of them) as text;
    images and audio are refused with where they are."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    texts = []
    for i, part in enumerate(parts):
        at = f"{where}[{i}]" if isinstance(content, list) else where
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping) and part.get("type") in ("input_text", "output_text") \
                and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
            raise InvalidExport(f"content of type {kind!r} is not supported yet (text only: "
                                "input_text, output_text)", where=at)
    return "\n".join(texts)


def check_paths(conv: Converted, items: Sequence[Mapping[str, Any]], where: str) -> None:
    """Every item field the template reads is in the items (in the first item that has its
    top-level field); otherwise InvalidExport names the field and the template's place."""
    for dotted in conv.item_paths:
        head = dotted.split(".")[0]
        holder = next((it for it in items if dotted in it or head in it), None)
        if holder is None or not resolve(holder, dotted)[0]:
            have = ", ".join(sorted(_fields(items))) or "no fields"
            raise InvalidExport(f"the template reads {{{{item.{dotted}}}}}, which the items "
                                f"lack (they have {have})", where=where)


def _fields(items: Iterable[Mapping[str, Any]]) -> set[str]:
    out: set[str] = set()
    for n, it in enumerate(items):
        out |= set(map(str, it))
        if n >= 50:
            break
    return out
