"""The subprocess runner of imported python graders: no environment, a time limit, a worker
that serves many items and is replaced when a grader hangs or kills it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from nbplayground.adapters.subprocess_grader import SubprocessCodeRunner
from tests.conftest import TEST_KEY

EQUAL = ("def grade(sample, item):\n"
         "    return 1.0 if sample['output_text'] == item['ref'] else 0.0\n")


@pytest.fixture
def runner() -> Iterator[SubprocessCodeRunner]:
    r = SubprocessCodeRunner(timeout=2.0)
    yield r
    r.close()


def test_one_worker_serves_every_item(runner: SubprocessCodeRunner) -> None:
    scores = [runner.grade(EQUAL, {"output_text": str(i % 2)}, {"ref": "1"})
              for i in range(200)]
    assert scores == [(float(i % 2), None) for i in range(200)]
    assert runner.started == 1


def test_the_worker_inherits_no_environment(runner: SubprocessCodeRunner,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("PYTHONPATH", "/nowhere")
    spy = ("import os, sys\n"
           "def grade(sample, item):\n"
           "    leaked = [k for k, v in os.environ.items() if 'sk-' in v or k.startswith("
           "'OPENAI') or k == 'PYTHONPATH']\n"
           "    return 0.0 if leaked or '/nowhere' in sys.path else 1.0\n")
    assert runner.grade(spy, {}, {}) == (1.0, None)
    assert os.environ["OPENAI_API_KEY"] == TEST_KEY  # ours is untouched


def test_a_hanging_grader_scores_nothing_and_the_next_item_gets_a_fresh_worker() -> None:
    runner = SubprocessCodeRunner(timeout=1.5)
    try:
        hang = "def grade(sample, item):\n    while True:\n        pass\n"
        first = runner.pid if runner.grade(EQUAL, {"output_text": "a"}, {"ref": "a"}) else None
        score, reason = runner.grade(hang, {}, {})
        assert score is None and reason == "the grader did not answer within 1.5 s"
        assert runner.pid is None  # killed, not left spinning
        assert runner.grade(EQUAL, {"output_text": "a"}, {"ref": "a"}) == (1.0, None)
        assert runner.started == 2 and runner.pid != first
    finally:
        runner.close()


@pytest.mark.parametrize(("source", "says"), [
    ("def grade(sample, item):\n    raise KeyError('ref')\n", "grade() raised KeyError: 'ref'"),
    ("def grade(sample, item):\n    return 'high'\n", "returned str 'high', not a number"),
    ("def grade(sample, item):\n    return True\n", "returned bool"),
    ("def grade(sample, item):\n    return float('nan')\n", "not a finite number"),
    ("def grade(sample, item:\n", "does not load: SyntaxError"),
    ("def score(sample, item):\n    return 1\n", "defines no grade(sample, item)"),
    ("import os\ndef grade(sample, item):\n    os._exit(1)\n", "process exited"),
])
def test_a_failing_grader_says_why(runner: SubprocessCodeRunner, source: str,
                                   says: str) -> None:
    score, reason = runner.grade(source, {"output_text": "x"}, {})
    assert score is None and says in (reason or "")
    assert runner.grade(EQUAL, {"output_text": "x"}, {"ref": "x"}) == (1.0, None)


def test_what_a_grader_prints_or_reads_does_not_corrupt_the_replies(
        runner: SubprocessCodeRunner) -> None:
    noisy = ("import sys\n"
             "def grade(sample, item):\n"
             "    print('{\"score\": 99}')\n"
             "    sys.stdout.write('\\n\\n')\n"
             "    return 0.25 if sys.stdin.read() == '' else 0.0\n")
    assert [runner.grade(noisy, {}, {}) for _ in range(3)] == [(0.25, None)] * 3
