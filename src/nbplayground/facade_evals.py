"""The facade's eval imports: pg.import_openai_eval wires the subprocess runner for python
graders, the facade's sweep and its saved prompts into an ImportedEval."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nbplayground.errors import InvalidInput
from nbplayground.evaluation.openai_import import ImportedEval, import_eval


def import_openai_eval(sweep: Callable[..., Any], save: Callable[..., Any], eval_json: Any,
                       run: Any = None,
                       items: Any = None, *, output_items: Any = None,
                       trust_python: bool = False, python_timeout: float = 10.0
                       ) -> ImportedEval:
    if not isinstance(trust_python, bool):
        raise InvalidInput(f"trust_python must be True or False, not {trust_python!r}")
    if isinstance(python_timeout, bool) or not isinstance(python_timeout, int | float) or \
            not math.isfinite(python_timeout) or python_timeout <= 0:
        raise InvalidInput(f"python_timeout must be a number of seconds > 0, not "
                           f"{python_timeout!r}")
    runner = None
    if trust_python:
        from nbplayground.adapters.subprocess_grader import SubprocessCodeRunner

        runner = SubprocessCodeRunner(timeout=float(python_timeout))  # starts when first used
    return import_eval(eval_json, run, items, output_items=output_items,
                       trust_python=trust_python, runner=runner, sweep=sweep, save=save)
