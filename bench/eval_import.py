"""Importing exported OpenAI evals: the import time of an eval of 10,000 items (parsing, item
schema check, graders, prompt), and what the python-grader subprocess costs per item (one
worker serving every item) against a process started per item and the same function in-kernel.

    .venv/bin/python bench/eval_import.py [items]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nbplayground.adapters.subprocess_grader import WORKER, SubprocessCodeRunner
from nbplayground.evaluation.openai_import import import_eval

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures" / "openai_evals"
SOURCE = ("def grade(sample, item):\n"
          "    return 1.0 if item['capital'].lower() in sample['output_text'].lower() "
          "else 0.0\n")


def best(fn: Any, times: int = 3) -> float:
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def import_time(n: int) -> None:
    eval_json = json.loads((FIXTURES / "eval.json").read_text())
    run = json.loads((FIXTURES / "run.json").read_text())
    rows = [{"item": {"country": f"Country {i}", "capital": f"City {i}",
                      "meta": {"region": "Europe", "aliases": [f"Town {i}"]}}}
            for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        items = Path(tmp) / "items.jsonl"
        items.write_text("\n".join(json.dumps(r) for r in rows))
        run["data_source"]["source"] = {"type": "file_id", "id": "file-bench"}
        run_path = Path(tmp) / "run.json"
        run_path.write_text(json.dumps(run))

        def once() -> None:
            ev = import_eval(FIXTURES / "eval.json", run_path, items, sweep=print)
            assert len(ev.data) == n

        took = best(once)
        print(f"import of an eval of {n:,} items (JSONL file, schema-checked, 6 graders): "
              f"{took * 1000:.0f} ms ({took / n * 1e6:.1f} µs per item)")
        inline = dict(eval_json)
        run["data_source"]["source"] = {"type": "file_content", "content": rows}
        took = best(lambda: import_eval(inline, run, sweep=print))
        print(f"the same with the items inline in the run's JSON (dicts): "
              f"{took * 1000:.0f} ms")


def conversations(n: int) -> None:
    """A jsonl run of n items carrying their conversations and pre-generated samples: the
    import, the baseline graded in-kernel (two string checks, one on the tool calls; the
    judge is not sent), and the conversation template filled for every item."""
    from nbplayground.experimentation.conversations import render_turns

    base = FIXTURES / "conversations"
    run = json.loads((base / "run_jsonl.json").read_text())
    rows = run["data_source"]["source"]["content"]
    run["data_source"]["source"]["content"] = [rows[i % len(rows)] for i in range(n)]
    took = best(lambda: import_eval(base / "eval.json", run, sweep=print))
    print(f"a jsonl run of {n:,} conversations with their samples, imported and its "
          f"baseline graded: {took * 1000:.0f} ms ({took / n * 1e6:.1f} µs per item)")
    ev = import_eval(base / "eval.json", base / "run_template.json", sweep=print)
    assert ev.prompt is not None
    turns, row = ev.prompt.messages, {str(k): v for k, v in ev.data.iloc[0].items()}
    took = best(lambda: [render_turns(turns, row) for _ in range(n)])
    print(f"a 4-turn template with an image filled {n:,} times: {took * 1000:.0f} ms")


def per_item(n: int = 2000) -> None:
    samples = [({"output_text": f"It is City {i}.", "output_json": None, "output_tools": [],
                 "choices": []}, {"capital": f"City {i}"}) for i in range(n)]
    runner = SubprocessCodeRunner(timeout=10)
    runner.grade(SOURCE, *samples[0])  # the worker's start, once per sweep
    t0 = time.perf_counter()
    for s, item in samples:
        runner.grade(SOURCE, s, item)
    worker = (time.perf_counter() - t0) / n
    runner.close()
    namespace: dict[str, Any] = {}
    exec(SOURCE, namespace)  # the in-kernel baseline: what trust_python avoids doing
    fn = namespace["grade"]
    t0 = time.perf_counter()
    for s, item in samples:
        fn(s, item)
    kernel = (time.perf_counter() - t0) / n
    start = best(lambda: SubprocessCodeRunner(timeout=10).grade(SOURCE, *samples[0]), 5)
    m = 20
    t0 = time.perf_counter()
    for s, item in samples[:m]:  # one process per item: what the worker amortises
        msg = json.dumps({"op": "load", "key": "k", "source": SOURCE}) + "\n" + json.dumps(
            {"op": "grade", "key": "k", "sample": s, "item": item}) + "\n"
        subprocess.run([sys.executable, "-I", str(WORKER)], input=msg.encode(), env={},
                       capture_output=True, check=True)
    fresh = (time.perf_counter() - t0) / m
    print(f"python grader, per item: {worker * 1e6:.0f} µs through one worker "
          f"({n:,} items), {kernel * 1e6:.2f} µs in-kernel, {fresh * 1000:.1f} ms with a "
          f"process per item ({fresh / worker:.0f}x the worker); a worker starts in "
          f"{start * 1000:.0f} ms")


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    import_time(size)
    conversations(size)
    per_item()
