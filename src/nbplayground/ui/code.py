"""View code: the request of the panel's configuration as Python, JavaScript, curl and pg.run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from nbplayground.ui import state
from nbplayground.ui.compare import compare_request
from nbplayground.ui.snippet import run_cell, sweep_cell, variable_name

if TYPE_CHECKING:
    from nbplayground.ui.ports import Facade

LANGUAGES: tuple[Literal["python", "javascript", "curl"], ...] = ("python", "javascript", "curl")


def code_for(pg: Facade, config: dict[str, Any]) -> dict[str, str]:
    """{python, javascript, curl, notebook} for a configuration, before anything is run.

    The request is prepared exactly as a run would prepare it (pg.prepare), so the code sends
    the body a run from the panel sends.
    """
    from nbplayground.results import Experiment

    prompt, kwargs = state.request(config)
    cell = pg.prepare(prompt, **kwargs)
    exp = Experiment(user_id=pg.user, model=cell.request.model, provider=cell.provider,
                     messages=cell.request.messages, parameters=cell.request.parameters,
                     base_url=cell.base_url, request_body=cell.request.body())
    code = {"notebook": run_cell(variable_name(pg), prompt, kwargs, pg.provider)}
    try:
        for language in LANGUAGES:
            code[language] = exp.code(language)
    except ImportError:  # the API Integration context is optional for the panel
        code.update(dict.fromkeys(LANGUAGES, "# code generation is not available here\n"))
    return code


def compare_code(pg: Facade, base: dict[str, Any], columns: list[dict[str, Any]]) -> str:
    """The one pg.sweep(...) cell that runs the compare columns: the sweep Compare's Run
    sends, whatever the columns' providers."""
    return sweep_cell(variable_name(pg), *compare_request(base, columns, pg.provider))


def code_bundle(pg: Facade, config: dict[str, Any], columns: list[dict[str, Any]]
                ) -> dict[str, str]:
    """The Code view's texts, or {"error": ...} in plain words."""
    try:
        code = code_for(pg, config)
        code["compare"] = compare_code(pg, config, columns)
    except Exception as e:
        code = {"error": state.error_of(e)["detail"]}
    return code


CELL_MAGIC = {"python": "", "javascript": "%%script node\n", "curl": "%%bash\n"}
"""What makes a notebook cell run the language of the code on screen."""


def notebook_cell(pg: Facade, config: dict[str, Any], columns: list[dict[str, Any]],
                  what: str) -> str:
    """The cell "Send to notebook" inserts: the code on screen (`what` is the Code view's tab:
    python, javascript, curl, notebook or compare; "chat" is the pg.run cell)."""
    if what == "compare":
        return compare_code(pg, config, columns)
    if what in CELL_MAGIC:
        return CELL_MAGIC[what] + code_for(pg, config)[what]
    return run_cell(variable_name(pg), *state.request(config), pg.provider)


def estimate_for(pg: Facade, config: dict[str, Any]) -> dict[str, Any]:
    """Prompt tokens and price range of the panel's run, and the gate's words when the run
    would not fit the budget (Run is then disabled)."""
    if not config["prompt"].strip() and not config["messages"]:
        return {}
    try:
        prompt, kwargs = state.request(config)
        preview = pg.preview(prompt, **kwargs)
        estimate = state.estimate_of(preview)
        estimate["blocked"] = pg.budget(needed=preview["max_cost"] or 0.0)["message"]
    except Exception as e:
        estimate = {"error": state.error_of(e)["detail"]}
    return estimate
