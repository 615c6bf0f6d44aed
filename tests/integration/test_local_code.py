"""Code for a run on the kernel's own model points at the same model served OpenAI-style."""

from __future__ import annotations

import ast

from nbplayground.integration import APIService
from nbplayground.integration.api_service import LOCAL_SERVER
from tests.factories import make_experiment


def test_local_runs_get_code_for_llama_cpps_server() -> None:
    exp = make_experiment(model="smollm2", provider="local", base_url=None)
    service = APIService()
    py = service.python_code(exp)
    ast.parse(py)
    assert f'base_url="{LOCAL_SERVER}"' in py and "llama_cpp.server" in py
    assert "api.openai.com" not in service.curl_code(exp)
    assert f'baseURL: "{LOCAL_SERVER}"' in service.javascript_code(exp)


def test_simulated_runs_get_code_for_the_model_they_stand_in_for() -> None:
    exp = make_experiment(model="gpt-4o-mini", provider="simulated", base_url=None)
    py = APIService().python_code(exp)
    assert "base_url" not in py and "llama_cpp" not in py
