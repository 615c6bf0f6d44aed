"""The process imported python graders run in (standard library only; started by path, with an
empty environment): JSON lines in, JSON lines out, one grader call per request.

Requests: {"op": "load", "key", "source"} (no reply) and {"op": "grade", "key", "sample",
"item"} -> {"score": float} or {"error": text}. A grader's print() goes to stderr and its
input() reads nothing, so neither can corrupt the replies.
"""

import json
import math
import os
import sys
from typing import IO, Any


def _reply(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _load(source: str, key: str) -> Any:
    namespace: dict[str, Any] = {"__name__": "grader_" + key}
    try:
        exec(compile(source, "<grader>", "exec"), namespace)
    except BaseException as e:
        return f"the grader's source does not load: {type(e).__name__}: {e}"
    fn = namespace.get("grade")
    if not callable(fn):
        return "the grader's source defines no grade(sample, item) function"
    return fn


def _grade(fn: Any, sample: Any, item: Any) -> dict[str, Any]:
    try:
        value = fn(sample, item)
    except BaseException as e:
        return {"error": f"grade() raised {type(e).__name__}: {e}"[:500]}
    if isinstance(value, bool) or not isinstance(value, int | float):
        return {"error": f"grade() returned {type(value).__name__} {value!r:.60}, not a number"}
    if not math.isfinite(value):
        return {"error": f"grade() returned {value!r}, not a finite number"}
    return {"score": float(value)}


def main() -> int:
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    graders: dict[str, Any] = {}
    _reply(replies, {"ready": True})  # the time limit starts after the interpreter's start
    for line in requests:
        msg = json.loads(line)
        if msg["op"] == "load":
            graders[msg["key"]] = _load(msg["source"], msg["key"])
            continue
        fn = graders.get(msg["key"], "the grader was not loaded")
        if isinstance(fn, str):
            _reply(replies, {"error": fn})
        else:
            _reply(replies, _grade(fn, msg["sample"], msg["item"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
