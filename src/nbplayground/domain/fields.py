"""The one table of request fields: validation, panel controls, code, log columns derive from it.

Adding a field is one entry here plus a log migration; nothing else names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["number", "integer", "strings", "choice", "toggle", "json"]
Family = Literal["chat", "reasoning", "local", "unknown"]
Api = Literal["chat", "responses"]

SAMPLING: frozenset[Family] = frozenset({"chat", "local", "unknown"})
EVERY: frozenset[Family] = frozenset({"chat", "reasoning", "local", "unknown"})
REASONING_ONLY: frozenset[Family] = frozenset({"reasoning", "unknown"})

_SQL = {"number": "DOUBLE", "integer": "INTEGER", "strings": "VARCHAR", "choice": "VARCHAR",
        "toggle": "BOOLEAN", "json": "VARCHAR"}
_PYTHON: dict[str, Any] = {"number": float, "integer": int, "strings": tuple[str, ...],
                           "choice": str, "toggle": bool, "json": Any}
TOOLS: frozenset[Family] = frozenset({"chat", "reasoning", "unknown"})


@dataclass(frozen=True)
class RequestField:
    """One request field: how it is checked, shown, sent and logged."""

    name: str
    kind: Kind
    label: str
    help: str
    families: frozenset[Family]
    """Model families that take it; a model of another family refuses it before sending."""
    default: Any = None
    """What is sent when the user gives nothing, to families that sample (None = not sent)."""
    range: tuple[float, float | None] | None = None
    """Inclusive bounds; an upper bound of None means the model's output limit."""
    step: float = 0.01
    choices: tuple[str, ...] = ()
    max_items: int | None = None
    apis: frozenset[Api] = frozenset({"chat", "responses"})
    sql: str | None = None
    """The log column's type; defaults from the kind."""
    compact: bool = False
    """Shown in each Compare column, not only in the side panel."""
    local: bool = True
    """llama.cpp takes it under the same name."""
    advanced: bool = False
    """Shown folded under "More fields" in the panel."""
    on_wire: bool = True
    """False for a field that steers the request without being in its body (api)."""
    shape: str | None = None
    """A value that changes form on the wire (tools, response_format): see domain/wire.py."""
    wire: tuple[tuple[Api, str], ...] = ()
    """Where it goes in each API's body when not under its own name: a dotted path
    ("reasoning.effort" is {"reasoning": {"effort": ...}}); an API not in `apis` never gets it."""

    def path(self, api: Api) -> tuple[str, ...] | None:
        """The key path of this field in `api`'s request body; None when `api` does not take it."""
        if api not in self.apis or not self.on_wire:
            return None
        return tuple(dict(self.wire).get(api, self.name).split("."))

    log_column: str | None = None
    """The log column when it is not the field's name."""

    @property
    def column(self) -> str:
        return self.log_column or self.name

    @property
    def sql_type(self) -> str:
        return self.sql or _SQL[self.kind]

    @property
    def python_type(self) -> Any:
        return _PYTHON[self.kind]

    def control(self) -> dict[str, Any]:
        """The panel's description of its control (JSON): the browser holds no field names."""
        lo, hi = self.range or (None, None)
        return {"name": self.name, "kind": self.kind, "label": self.label, "help": self.help,
                "default": list(self.default) if isinstance(self.default, tuple)
                else self.default, "min": lo, "max": hi, "step": self.step,
                "choices": list(self.choices), "max_items": self.max_items,
                "compact": self.compact, "advanced": self.advanced, "limit": "max_output_tokens"
                if self.range is not None and self.range[1] is None else None}


FIELDS: tuple[RequestField, ...] = (
    RequestField("temperature", "number", "Temperature",
                 "Higher values give more varied answers; 0 is nearly deterministic.",
                 SAMPLING, default=1.0, range=(0.0, 2.0), compact=True),
    RequestField("max_tokens", "integer", "Maximum tokens",
                 "The longest answer the model may write (for a reasoning model, its "
                 "reasoning counts too).", EVERY, default=256, range=(1, None), step=1,
                 compact=True, wire=(("responses", "max_output_tokens"),)),
    RequestField("top_p", "number", "Top P",
                 "Nucleus sampling: only the most likely tokens whose mass adds up to top P.",
                 SAMPLING, default=1.0, range=(0.0, 1.0), compact=True),
    RequestField("frequency_penalty", "number", "Frequency penalty",
                 "Penalises tokens by how often they already appeared.",
                 SAMPLING, default=0.0, range=(-2.0, 2.0), apis=frozenset({"chat"})),
    RequestField("presence_penalty", "number", "Presence penalty",
                 "Penalises tokens that appeared at all: nudges toward new topics.",
                 SAMPLING, default=0.0, range=(-2.0, 2.0), apis=frozenset({"chat"})),
    RequestField("stop", "strings", "Stop sequences",
                 "Up to 4 sequences where the model stops writing (\\n for a newline).",
                 SAMPLING, max_items=4, apis=frozenset({"chat"})),
    RequestField("seed", "integer", "Seed",
                 "The same seed and settings give (mostly) the same answer.",
                 EVERY, step=1, sql="BIGINT", apis=frozenset({"chat"})),
    RequestField("reasoning_effort", "choice", "Reasoning effort",
                 "How long a reasoning model thinks before it answers.", REASONING_ONLY,
                 choices=("none", "minimal", "low", "medium", "high", "xhigh"), local=False,
                 wire=(("responses", "reasoning.effort"),)),
)

FIELDS += (
    RequestField("api", "choice", "API",
                 "Chat Completions or the Responses API; auto takes Responses only for the "
                 "models that only it serves (o1-pro, o3-pro, gpt-5-pro, *-codex).", EVERY,
                 choices=("auto", "chat", "responses"), on_wire=False, local=False),
    RequestField("response_format", "json", "Response format",
                 "A JSON schema the answer must follow (or json_object for any JSON).", EVERY,
                 local=False, advanced=True, shape="response_format",
                 wire=(("responses", "text.format"),)),
    RequestField("tools", "json", "Tools",
                 "Functions the model may call: their names, descriptions and the JSON they take.",
                 TOOLS, local=False, advanced=True, shape="tools"),
    RequestField("tool_choice", "choice", "Tool choice",
                 "auto lets the model decide; required makes it call one; none forbids tools.",
                 TOOLS, choices=("auto", "none", "required"), local=False, advanced=True,
                 shape="tool_choice"),
    RequestField("verbosity", "choice", "Verbosity", "How much a GPT-5 model writes.",
                 REASONING_ONLY, choices=("low", "medium", "high"), local=False, advanced=True,
                 wire=(("responses", "text.verbosity"),)),
    RequestField("reasoning_summary", "choice", "Reasoning summary",
                 "A summary of the model's reasoning (Responses API).", REASONING_ONLY,
                 choices=("auto", "concise", "detailed"), apis=frozenset({"responses"}),
                 local=False, advanced=True, wire=(("responses", "reasoning.summary"),)),
    RequestField("service_tier", "choice", "Service tier",
                 "flex halves the price of calls that may wait; priority answers sooner.",
                 TOOLS, choices=("auto", "default", "flex", "priority"), local=False,
                 advanced=True),
    RequestField("logprobs", "toggle", "Log probabilities",
                 "Return each token's probability (and top alternatives).", SAMPLING,
                 shape="include_logprobs", log_column="logprobs_requested", local=False,
                 advanced=True),
    RequestField("top_logprobs", "integer", "Top alternatives",
                 "How many likely alternatives to return per token (needs logprobs).",
                 SAMPLING, range=(0, 20), step=1, local=False, advanced=True),
)

BY_NAME: dict[str, RequestField] = {f.name: f for f in FIELDS}
PARAMETER_NAMES: tuple[str, ...] = tuple(BY_NAME)


def field(name: str) -> RequestField:
    return BY_NAME[name]
