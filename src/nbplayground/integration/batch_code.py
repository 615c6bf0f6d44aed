"""Code for a batch sweep: a Python script that writes the JSONL file, uploads it and creates
the batch with the official SDK (one batch per endpoint and model, at most 50,000 lines)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nbplayground.domain.batch import MAX_LINES
from nbplayground.errors import InvalidInput
from nbplayground.integration.literals import literal, string_literal

Line = tuple[str, str, dict[str, Any]]
"""(custom_id, url such as "/v1/chat/completions", body)."""

_SUBMIT = f'''
# One batch per endpoint and model (the Batch API's rule), at most {MAX_LINES:,} lines a file.
groups = defaultdict(list)
for line in requests:
    groups[(line["url"], line["body"]["model"])].append(line)
for (url, model), lines in groups.items():
    for start in range(0, len(lines), {MAX_LINES}):
        part = lines[start:start + {MAX_LINES}]
        name = f"batch-{{model}}-{{start // {MAX_LINES}}}.jsonl".replace("/", "_")
        with open(name, "w", encoding="utf-8") as f:
            for line in part:
                f.write(json.dumps(line, ensure_ascii=False) + "\\n")
        with open(name, "rb") as f:
            batch_file = client.files.create(file=f, purpose="batch")
        batch = client.batches.create(
            input_file_id=batch_file.id, endpoint=url, completion_window="24h",
        )
        print(batch.id, batch.status, len(part), "requests")
'''


def python_batch_script(base_url: str | None, lines: Sequence[Line]) -> str:
    """The script; the key comes from OPENAI_API_KEY, never from here."""
    if not lines:
        raise InvalidInput("a batch script needs at least one request")
    args = "" if base_url is None else f"base_url={string_literal(base_url, 'python')}"
    items = [literal({"custom_id": cid, "method": "POST", "url": url, "body": body},
                     "python", 4, 4, force=True) for cid, url, body in lines]
    return ("import json\nfrom collections import defaultdict\n\nfrom openai import OpenAI\n\n"
            f"client = OpenAI({args})  # the key: $OPENAI_API_KEY\n\n"
            "requests = [\n" + "".join(f"    {i},\n" for i in items) + "]\n" + _SUBMIT)
