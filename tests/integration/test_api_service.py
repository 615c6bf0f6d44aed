"""APIService snippets, run for real (Python, node, curl) against the loopback OpenAI stub."""

from __future__ import annotations

import ast
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbplayground import domain, results
from nbplayground.errors import InvalidInput
from nbplayground.integration import LANGUAGES, APIService

KEY = "sk-test"
CHAT = "/v1/chat/completions"
REPLY = 'Bonjour — ✓ 🦆 "done" \\ $HOME `x`'
SVC = APIService()
RUNNERS = {"python": (sys.executable, ".py"), "javascript": ("node", ".mjs"),
           "curl": ("bash", ".sh")}
PROXIES = ("http_proxy", "https_proxy", "all_proxy")
ENV = {k: v for k, v in os.environ.items()
       if not k.startswith("OPENAI_") and k.lower() not in PROXIES}
ENV |= {"OPENAI_API_KEY": KEY, "PYTHONUTF8": "1", "NO_PROXY": "127.0.0.1,localhost"}
# One node process compiles and runs many snippets as ES modules, with a fake "openai" module
# that records the client options and bodies; one JSON line in (the source), one out.
NODE_CHECKER = """
import readline from "node:readline";
import vm from "node:vm";
let seen;
class FakeOpenAI {
  constructor(options) {
    seen.options = options ?? null;
    const chunks = async function* () { yield* [{ choices: [{ delta: { content: "o" } }] },
      { choices: [{ delta: { content: "k" } }] }, { choices: [] }]; };
    this.chat = { completions: { create: async (body) => {
      seen.bodies.push(JSON.parse(JSON.stringify(body)));
      return body.stream ? chunks() : { choices: [{ message: { content: "ok" } }] };
    } } };
  }
}
for await (const line of readline.createInterface({ input: process.stdin })) {
  seen = { options: undefined, bodies: [], out: "" };
  try {
    const context = vm.createContext({
      console: { log: (...args) => { seen.out += args.join(" ") + "\\n"; } },
      process: { stdout: { write: (text) => { seen.out += text; } } },
    });
    const snippet = new vm.SourceTextModule(JSON.parse(line), { context });
    const openai = new vm.SyntheticModule(["default"],
      function () { this.setExport("default", FakeOpenAI); }, { context });
    await snippet.link(async () => openai);
    await snippet.evaluate();
  } catch (error) { seen.error = String(error?.stack ?? error); }
  process.stdout.write(JSON.stringify(seen) + "\\n");
}
"""
# A curl stand-in: prints its arguments NUL-separated, a byte 1, then the body it was given.
FAKE_CURL = "curl() { printf '%s\\0' \"$@\"; printf '\\1'; cat; }; . \"$0\""


def experiment(prompt: str | list[dict[str, str]], *, model: str = "gpt-4o-mini",
               system: str | None = None, base_url: str | None = None,
               field: str = "max_tokens", **params: Any) -> domain.Experiment:
    messages = domain.as_messages(prompt, system)
    parameters = domain.ModelParameters(**params)
    request = domain.ChatRequest(model=model, messages=messages, parameters=parameters,
                                 max_tokens_field=field)  # type: ignore[arg-type]
    return domain.Experiment(user_id="alice", model=model, provider="openai", messages=messages,
                             parameters=parameters, base_url=base_url, request_body=request.body())


EXPERIMENTS = {
    "simple": experiment("Write a haiku about DuckDB.", system="You are a terse poet.",
                         temperature=0.7, max_tokens=256),
    "reasoning": experiment(
        [{"role": "developer", "content": "Answer in one line."},
         {"role": "user", "content": "Prove that √2 is irrational.\nKeep it 'short'."}],
        model="o4-mini", field="max_completion_tokens", max_tokens=512, reasoning_effort="low"),
    "stop_seed": experiment('Count: 1, 2, 3 """ `date` ${HOME} $HOME \\ END?\u2028🦆 ',
                            model="gpt-4.1-nano", temperature=0.0, top_p=0.9, max_tokens=64,
                            frequency_penalty=0.5, presence_penalty=-0.5,
                            stop=("STOP", "\n\n###"), seed=42),
}


@pytest.fixture(scope="module")
def stub() -> Iterator[Any]:
    from tests.support.openai_stub import OpenAIStub

    with OpenAIStub(api_key=KEY, reply_with=REPLY) as server:
        yield server
        assert server.errors == []


@pytest.fixture(scope="session")
def node_dir() -> Path:
    """A cache of the npm `openai` package, installed once and reused by later runs."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the JavaScript snippets")
    cache = Path(tempfile.gettempdir()) / "nbplayground-tests-node"
    cache.mkdir(exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test sessions install once
        if not (cache / "node_modules" / "openai" / "package.json").exists():
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                            "openai"], cwd=cache, check=True, capture_output=True, timeout=300)
    return cache


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("snippets")


@pytest.fixture(scope="module")
def node_check(workdir: Path) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Compiles and evaluates JS snippets in one node process, with a fake `openai` module."""
    if shutil.which("node") is None:
        pytest.skip("node is needed to check the JavaScript snippets")
    script = workdir / "check.mjs"
    script.write_text(NODE_CHECKER, encoding="utf-8")
    with subprocess.Popen(["node", "--experimental-vm-modules", "--no-warnings", str(script)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          encoding="utf-8") as proc:
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None
        assert stdout is not None

        def check(source: str) -> dict[str, Any]:
            stdin.write(json.dumps(source) + "\n")
            stdin.flush()
            reply: dict[str, Any] = json.loads(stdout.readline())
            return reply

        yield check
        stdin.close()


def generate(language: str, exp: domain.Experiment, *, stream: bool = False) -> str:
    code = SVC.code(exp, language, stream=stream)  # type: ignore[arg-type]
    sent = json.dumps(exp.request_body, ensure_ascii=False)
    assert "sk-" not in code or "sk-" in sent, "a key-like string appeared from nowhere"
    hidden = {c for c in code if not c.isprintable()} - {"\n"}
    assert not hidden, f"invisible or line-breaking characters in the code: {hidden}"
    return code


def run(stub: Any, code: str, language: str, where: Path) -> tuple[str, list[dict[str, Any]]]:
    """Runs a snippet; returns what it printed and the chat request bodies the stub received."""
    seen = len(stub.requests)
    program, suffix = RUNNERS[language]
    path = where / f"snippet_{uuid.uuid4().hex}{suffix}"
    path.write_text(code, encoding="utf-8")
    try:
        done = subprocess.run([program, str(path)], env=ENV, capture_output=True, timeout=60)
    finally:
        path.unlink()
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    bodies = [r.body for r in stub.requests[seen:] if r.path == CHAT]
    return done.stdout.decode(), bodies


def printed_answer(language: str, stdout: str, stream: bool) -> str:
    if language != "curl":
        return stdout
    if not stream:
        return json.loads(stdout)["choices"][0]["message"]["content"] + "\n"
    events = [json.loads(line[6:]) for line in stdout.splitlines() if line.startswith("data: {")]
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events
                   if e["choices"]) + "\n"


def expected(exp: domain.Experiment, stream: bool) -> dict[str, Any]:
    return {**exp.request_body, **({"stream": True} if stream else {})}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("name", EXPERIMENTS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_snippet_resends_the_exact_body_and_prints_the_answer(
    language: str, name: str, stream: bool, stub: Any, workdir: Path, request: Any
) -> None:
    where = request.getfixturevalue("node_dir") if language == "javascript" else workdir
    exp = EXPERIMENTS[name].model_copy(update={"base_url": stub.base_url})
    stdout, bodies = run(stub, generate(language, exp, stream=stream), language, where)
    assert bodies == [expected(exp, stream)]
    if language != "python":  # the Python SDK orders keys itself; node and curl keep ours
        assert list(bodies[0]) == list(expected(exp, stream))
    assert printed_answer(language, stdout, stream) == REPLY + "\n"


def test_simple_python_snippet_reads_like_the_docs() -> None:
    assert SVC.python_code(EXPERIMENTS["simple"]) == '''\
from openai import OpenAI

client = OpenAI()  # reads OPENAI_API_KEY from the environment

completion = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[
        {"role": "system", "content": "You are a terse poet."},
        {"role": "user", "content": "Write a haiku about DuckDB."},
    ],
    temperature=0.7,
    max_tokens=256,
)
print(completion.choices[0].message.content)
'''


def test_default_endpoint_is_left_to_the_sdk() -> None:
    exp = EXPERIMENTS["simple"].model_copy(update={"base_url": "https://api.openai.com/v1/"})
    assert "base_url" not in SVC.python_code(exp)
    assert "baseURL" not in SVC.javascript_code(exp)
    assert "curl -sS https://api.openai.com/v1/chat/completions \\\n" in SVC.curl_code(exp)


def test_no_key_reaches_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-do-not-leak")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    for exp in EXPERIMENTS.values():
        for language in LANGUAGES:
            for stream in (False, True):
                code = SVC.code(exp, language, stream=stream)
                assert "sk-" not in code
                assert "do-not-leak" not in code
            assert "sk-" not in SVC.sweep_code([exp], language)


def test_unknown_language_names_the_three() -> None:
    with pytest.raises(InvalidInput, match="'python', 'javascript' or 'curl', not 'ruby'"):
        SVC.code(EXPERIMENTS["simple"], "ruby")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not 'js'"):
        SVC.sweep_code([EXPERIMENTS["simple"]], "js")  # type: ignore[arg-type]


def test_spec_names_and_the_experiment_method_give_the_same_code() -> None:
    exp = EXPERIMENTS["reasoning"]
    assert SVC.generate_python_code(exp) == SVC.python_code(exp) == SVC.code(exp, "python")
    assert SVC.generate_javascript_code(exp, stream=True) == SVC.javascript_code(exp, stream=True)
    assert results.view(exp).code("curl", stream=True) == SVC.curl_code(exp, stream=True)


def test_body_keys_the_sdk_does_not_know_still_go_out_unchanged(
    stub: Any, workdir: Path, node_dir: Path
) -> None:
    base = EXPERIMENTS["simple"]
    exp = base.model_copy(update={"base_url": stub.base_url,
                                  "request_body": {**base.request_body, "top_k": 40}})
    assert "extra_body={\"top_k\": 40}" in SVC.python_code(exp)
    for language, where in zip(LANGUAGES, (workdir, node_dir, workdir), strict=True):
        assert run(stub, generate(language, exp), language, where)[1] == [exp.request_body]


def test_an_experiment_without_a_recorded_body_sends_what_its_fields_say() -> None:
    exp = EXPERIMENTS["stop_seed"].model_copy(update={"request_body": {}})
    assert python_request(SVC.python_code(exp))[0] == EXPERIMENTS["stop_seed"].request_body


def sweep() -> list[domain.Experiment]:
    return [experiment(p, temperature=t, max_tokens=32, base_url="http://127.0.0.1:9/v1")
            .model_copy(update={"sweep_id": "sw1", "repeat": r})
            for p in ("prompt a", "prompt 'b'\n") for t in (0.0, 1.2) for r in (0, 1)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_sweep_code_loops_over_distinct_bodies(
    language: str, stub: Any, workdir: Path, request: Any
) -> None:
    where = request.getfixturevalue("node_dir") if language == "javascript" else workdir
    cells = [e.model_copy(update={"base_url": stub.base_url}) for e in sweep()]
    stdout, bodies = run(stub, SVC.sweep_code(cells, language), language, where)
    assert bodies == [cells[i].request_body for i in (0, 2, 4, 6)]
    assert [line for line in stdout.splitlines() if line.startswith("---")] == [
        f"--- {i}/4 gpt-4o-mini" for i in range(1, 5)]
    assert stdout.count("Bonjour") == 4


def test_sweep_code_refuses_mixed_endpoints_and_nothing() -> None:
    cells = sweep()
    with pytest.raises(InvalidInput, match="one endpoint"):
        SVC.sweep_code([*cells, cells[0].model_copy(update={"base_url": None})])
    with pytest.raises(InvalidInput, match="at least one"):
        SVC.sweep_code([])


# -- any prompt survives ---------------------------------------------------------------------

FRAGMENTS = ['"', "'", '"""', "'''", "\\", "\\n", "\\u2028", "\n", "\r\n", "\r", "\t", "`",
             "${HOME}", "$HOME", "$(id)", "`id`", "!!", "!x", "\nJSON\n", "JSON", "EOF", "#",
             "</script>", "\u2028", "\u2029", "\x85", "\ufeff", "\u202e", "\u200d", "\x00",
             "\x1b[31m", "\x7f", "\x0b", "\x0c", "\xa0", "🦆", "👨‍👩‍👧", "é", "中文",
             "\U000e0041", "\U0010ffff", "__proto__", "%s", "{x}", "*/", "//"]
TEXT = st.one_of(st.text(max_size=30), st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=12).map("".join))
PARAMS = st.fixed_dictionaries({}, optional={
    "temperature": st.floats(0, 2), "top_p": st.floats(0, 1), "max_tokens": st.integers(1, 10**5),
    "frequency_penalty": st.floats(-2, 2), "presence_penalty": st.floats(-2, 2),
    "stop": st.lists(TEXT.filter(bool), min_size=1, max_size=4).map(tuple),
    "seed": st.integers(-(2**53), 2**53),  # JavaScript numbers are exact up to 2**53
    "reasoning_effort": st.sampled_from(["minimal", "low", "medium", "high"])})
EXPERIMENT = st.builds(
    lambda prompt, system, model, field, base_url, params: experiment(
        prompt, system=system, model=model, field=field, base_url=base_url, **params),
    TEXT, st.none() | TEXT, st.sampled_from(["gpt-4o-mini", "o4-mini"]) | TEXT,
    st.sampled_from(["max_tokens", "max_completion_tokens"]),
    st.sampled_from([None, "http://127.0.0.1:8080/v1", "https://my-host.example/v1/"]), PARAMS)


def fake_curl(code: str, where: Path) -> tuple[list[str], str]:
    path = where / "curl.sh"
    path.write_text(code, encoding="utf-8")
    done = subprocess.run(["bash", "-c", FAKE_CURL, str(path)], env=ENV, capture_output=True)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    args, _, body = done.stdout.decode().partition("\x01")
    return args.split("\0")[:-1], body


def python_request(code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body and the client options a Python snippet would send, read from its syntax tree."""
    calls = {c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", ""): c
             for c in ast.walk(ast.parse(code)) if isinstance(c, ast.Call)}
    args = {k.arg: ast.literal_eval(k.value) for k in calls["create"].keywords}
    body = {k: v for k, v in args.items() if k != "extra_body"} | args.get("extra_body", {})
    return body, {k.arg: ast.literal_eval(k.value) for k in calls["OpenAI"].keywords}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exp=EXPERIMENT, stream=st.booleans())
def test_any_prompt_gives_valid_code_that_sends_it_exactly(
    exp: domain.Experiment, stream: bool, node_check: Callable[[str], dict[str, Any]],
    workdir: Path,
) -> None:
    want, url = expected(exp, stream), exp.base_url
    body, client = python_request(generate("python", exp, stream=stream))
    assert body == want
    assert client == ({} if url is None else {"base_url": url})
    js = node_check(generate("javascript", exp, stream=stream))
    assert "error" not in js, js.get("error")
    assert js["bodies"] == [want]
    assert list(js["bodies"][0]) == list(want)
    assert js["options"] == (None if url is None else {"baseURL": url})
    assert js["out"] == "ok\n"
    curl = generate("curl", exp, stream=stream)
    check = subprocess.run(["bash", "-n"], input=curl.encode(), capture_output=True)
    assert check.returncode == 0, check.stderr.decode(errors="replace")
    args, sent = fake_curl(curl, workdir)
    assert json.loads(sent) == want
    assert list(json.loads(sent)) == list(want)
    assert args[-3:] == ["Authorization: Bearer sk-test", "--data-binary", "@-"]
    assert re.fullmatch(r"https?://[^/]+/v1/chat/completions", args[2 if stream else 1])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exp=EXPERIMENT, stream=st.booleans())
def test_a_sample_of_nasty_prompts_reaches_the_server_intact(
    exp: domain.Experiment, stream: bool, stub: Any, workdir: Path
) -> None:
    exp = exp.model_copy(update={"base_url": stub.base_url})
    stdout, bodies = run(stub, generate("python", exp, stream=stream), "python", workdir)
    assert bodies == [expected(exp, stream)]
    assert bodies[0]["messages"][-1]["content"] == exp.prompt
    answer = printed_answer("python", stdout, stream)
    assert answer.endswith("\n")
    assert REPLY.startswith(answer[:-1])  # stop and max_tokens may cut it short


RESPONSES = "/v1/responses"


def responses_experiment(**params: Any) -> domain.Experiment:
    messages = domain.as_messages("Largest city of Norway? Answer as JSON.", "Be exact.")
    parameters = domain.ModelParameters(api="responses", **params)
    request = domain.ChatRequest(model="gpt-5-mini", messages=messages, parameters=parameters,
                                 api="responses", max_tokens_field="max_completion_tokens")
    return domain.Experiment(user_id="alice", model="gpt-5-mini", provider="openai",
                             messages=messages, parameters=parameters,
                             request_body=request.body())


RESPONSES_EXPERIMENTS = {
    "reasoning": responses_experiment(max_tokens=300, reasoning_effort="low",
                                      verbosity="low", service_tier="flex"),
    "structured_tools": responses_experiment(
        response_format={"type": "json_schema", "name": "city", "strict": True, "schema": {
            "type": "object", "properties": {"name": {"type": "string"}},
            "required": ["name"], "additionalProperties": False}},
        tools=({"name": "lookup", "description": "Find a city.", "parameters": {
            "type": "object", "properties": {"q": {"type": "string"}}}, "strict": False},),
        tool_choice="auto"),
}


def responses_answer(language: str, stdout: str, stream: bool) -> str:
    if language != "curl":
        return stdout
    if not stream:
        out = json.loads(stdout)["output"]
        return "".join(c["text"] for item in out if item["type"] == "message"
                       for c in item["content"] if c["type"] == "output_text") + "\n"
    events = [json.loads(line[6:]) for line in stdout.splitlines() if line.startswith("data: {")]
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") + "\n"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("name", RESPONSES_EXPERIMENTS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_responses_snippets_resend_the_exact_body(language: str, name: str, stream: bool,
                                                  stub: Any, workdir: Path, request: Any
                                                  ) -> None:
    where = request.getfixturevalue("node_dir") if language == "javascript" else workdir
    exp = RESPONSES_EXPERIMENTS[name].model_copy(update={"base_url": stub.base_url})
    code = generate(language, exp, stream=stream)
    assert ("responses.create" in code) if language != "curl" else ("/responses" in code)
    seen = len(stub.requests)
    stdout, _ = run(stub, code, language, where)
    bodies = [r.body for r in stub.requests[seen:] if r.path == RESPONSES]
    assert bodies == [expected(exp, stream)]
    if name == "reasoning":  # a tool or schema answer is the stub's, not the fixed reply
        assert responses_answer(language, stdout, stream) == REPLY + "\n"
