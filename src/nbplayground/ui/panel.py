"""PlaygroundPanel: the anywidget playground. It talks only to the Playground facade; every run
goes through `pg.submit`, so it is logged exactly like `pg.run`."""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets as t

from nbplayground.domain.parameters import PARAMETER_NAMES
from nbplayground.errors import InvalidInput, NbPlaygroundError
from nbplayground.ui import state
from nbplayground.ui.presets import PresetStore
from nbplayground.ui.snippet import compare_cell, run_cell, variable_name
from nbplayground.ui.streaming import LatestOnly, Throttle

if TYPE_CHECKING:
    from nbplayground.playground import Playground
    from nbplayground.results import Experiment

_HERE = Path(__file__).parent
_CONFIG = ("model", "provider", "system", "messages", "prompt", "params")
_INITIAL = {"prompt", "model", "provider", "system", "messages", *PARAMETER_NAMES}
MAX_COLUMNS = 4
FLUSH_INTERVAL = 0.05  # seconds: at most 20 widget updates per second per panel


class Slot:
    """One streamed answer (the main run or a compare column), filled from the loop thread."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.future: concurrent.futures.Future[Experiment] | None = None
        self.done = False
        self.status = "running"
        self.final: str | None = None
        self.metrics: dict[str, Any] = {}
        self.error: dict[str, str] = {}

    def add(self, delta: str) -> None:
        if not self.done:
            self.pieces.append(delta)

    @property
    def text(self) -> str:
        return self.final if self.final is not None else "".join(self.pieces)

    def finish(self, future: concurrent.futures.Future[Experiment]) -> None:
        if future.cancelled():
            self.status = "stopped"
        elif (exc := future.exception()) is not None:
            self.status, self.error = "error", state.error_of(exc)
        else:
            exp = future.result()
            self.final = exp.response
            if exp.ok:
                self.status, self.metrics = "done", state.metrics_of(exp)
            else:
                self.status = "error"
                self.error = state.error_of(kind=exp.error_type, text=exp.error)
        self.done = True

    def fail(self, error: BaseException) -> None:
        self.status, self.error, self.done = "error", state.error_of(error), True

    def view(self) -> dict[str, Any]:
        return {"answer": self.text, "status": self.status, "metrics": self.metrics,
                "error": self.error}


class PlaygroundPanel(anywidget.AnyWidget):  # type: ignore[misc]
    """Model, system message, conversation, parameters, Run/Stop, streamed answer, metrics,
    history, side-by-side compare and code. Holds no key and no database connection."""

    _esm = _HERE / "panel.js"
    _css = _HERE / "panel.css"

    # The configuration: edited in the browser (and by load / presets).
    model = t.Unicode("").tag(sync=True)
    provider = t.Unicode("").tag(sync=True)
    system = t.Unicode("").tag(sync=True)
    messages = t.List(t.Dict()).tag(sync=True)
    prompt = t.Unicode("").tag(sync=True)
    params = t.Dict().tag(sync=True)
    compare_columns = t.List(t.Dict()).tag(sync=True)
    view = t.Unicode("chat").tag(sync=True)
    # What the kernel shows.
    models = t.List(t.Dict()).tag(sync=True)
    default_provider = t.Unicode("").tag(sync=True)
    disabled = t.Dict().tag(sync=True)
    status = t.Unicode("idle").tag(sync=True)
    answer = t.Unicode("").tag(sync=True)
    metrics = t.Dict().tag(sync=True)
    error = t.Dict().tag(sync=True)
    estimate = t.Dict().tag(sync=True)
    compare_status = t.Unicode("idle").tag(sync=True)
    compare_results = t.List(t.Dict()).tag(sync=True)
    history = t.List(t.Dict()).tag(sync=True)
    code = t.Dict().tag(sync=True)
    presets = t.List(t.Unicode()).tag(sync=True)
    notice = t.Dict().tag(sync=True)

    def __init__(self, pg: Playground, **initial: Any) -> None:
        unknown = sorted(set(initial) - _INITIAL)
        if unknown:
            raise InvalidInput(f"panel() does not take {unknown[0]!r}; it takes "
                               f"{', '.join(sorted(_INITIAL))}")
        self._pg = pg
        self._writing = threading.RLock()
        self._jobs = LatestOnly()
        self._throttle = Throttle(self._flush, FLUSH_INTERVAL)
        self._main: Slot | None = None
        self._columns: list[Slot] = []
        self._idle = threading.Event()
        self._idle.set()
        self._history_filter: dict[str, str] = {}
        self._notices = itertools.count(1)
        self._store = PresetStore()
        config = _initial_config(pg, initial)
        column = {"model": config["model"], "provider": config["provider"],
                  "params": dict(config["params"])}
        second = {**column, "params": {**config["params"], "temperature": 0.2}}
        super().__init__(**config, compare_columns=[column, second],
                         models=state.fallback_entries(config["provider"], config["model"]),
                         default_provider=pg.provider, presets=self._store_names(),
                         disabled=state.unsupported(config["model"]))
        self.on_msg(self.receive)
        current = (config["provider"], config["model"])
        self._jobs.submit("models", lambda: self._apply(
            models=state.model_entries(pg.models(), current)))
        self._estimate()

    # -- plumbing --

    def _apply(self, **values: Any) -> None:
        """Set traits from any thread, as one widget update."""
        with self._writing, self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    def _config(self) -> dict[str, Any]:
        with self._writing:
            return {"model": self.model, "provider": self.provider, "system": self.system,
                    "messages": [dict(m) for m in self.messages], "prompt": self.prompt,
                    "params": dict(self.params)}

    def _say(self, text: str, level: str = "info") -> None:
        self._apply(notice={"text": text, "level": level, "n": next(self._notices)})

    def _store_names(self) -> list[str]:
        try:
            return self._store.names()
        except NbPlaygroundError:
            return []

    def wait(self, timeout: float | None = 60.0) -> bool:
        """Block until the runs and the background look-ups have finished (for scripts, tests)."""
        return self._idle.wait(timeout) and self._jobs.wait(timeout)

    def close(self) -> None:
        self._stop()
        self._throttle.cancel()
        super().close()

    # -- observers --

    @t.observe("model")
    def _model_changed(self, change: dict[str, Any]) -> None:
        self._apply(disabled=state.unsupported(change["new"]))

    @t.observe(*_CONFIG)
    def _config_changed(self, _change: dict[str, Any]) -> None:
        self._estimate()
        if self.view == "code":
            self._code()

    @t.observe("view")
    def _view_changed(self, change: dict[str, Any]) -> None:
        if change["new"] == "history":
            self._history()
        elif change["new"] == "code":
            self._code()

    # -- actions from the browser --

    def receive(self, _widget: Any, content: dict[str, Any], _buffers: Any = None) -> None:
        """The custom-message handler: {"action": "run" | "stop" | "compare" | ...}."""
        action = content.get("action")
        handlers = {
            "run": lambda: self._run(), "stop": lambda: self._stop(),
            "compare": lambda: self._compare(),
            "history": lambda: self._history(str(content.get("search") or ""),
                                              str(content.get("model") or "")),
            "load": lambda: self._load(str(content.get("id") or "")),
            "code": lambda: self._code(),
            "notebook": lambda: self._notebook(content.get("what") == "compare",
                                               content.get("view")),
            "save_preset": lambda: self._save_preset(content.get("name")),
            "load_preset": lambda: self._load_preset(str(content.get("name") or "")),
            "delete_preset": lambda: self._delete_preset(str(content.get("name") or "")),
        }
        handler = handlers.get(str(action))
        if handler is None:
            self._say(f"unknown panel action {action!r}", "error")
            return
        try:
            handler()
        except NbPlaygroundError as e:
            self._say(str(e), "error")

    def _busy(self) -> bool:
        return not self._idle.is_set()

    def _submit(self, slot: Slot, config: dict[str, Any]) -> None:
        """Start one run into `slot`; bad input finishes the slot with the error at once."""
        def on_token(delta: str) -> None:
            slot.add(delta)
            self._throttle.poke()

        def done(future: concurrent.futures.Future[Experiment]) -> None:
            slot.finish(future)
            self._throttle.poke()

        try:
            prompt, kwargs = state.request(config)
            slot.future = self._pg.submit(prompt, on_token=on_token, **kwargs)
        except NbPlaygroundError as e:
            slot.fail(e)
            return
        slot.future.add_done_callback(done)

    def _run(self) -> None:
        if self._busy():
            return
        slot = Slot()
        with self._writing:
            self._idle.clear()
            self._main = slot
            self._apply(status="running", answer="", metrics={}, error={})
        self._submit(slot, self._config())
        self._throttle.poke()

    def _compare(self) -> None:
        if self._busy():
            return
        base = self._config()
        columns = list(self.compare_columns)[:MAX_COLUMNS]
        slots = [Slot() for _ in columns]
        with self._writing:
            self._idle.clear()
            self._columns = slots
            self._apply(compare_status="running", compare_results=[s.view() for s in slots])
        for slot, column in zip(slots, columns, strict=True):
            self._submit(slot, {**base, "model": column.get("model", ""),
                                "provider": column.get("provider") or base["provider"],
                                "params": dict(column.get("params") or {})})
        self._throttle.poke()

    def _stop(self) -> None:
        for slot in [s for s in (self._main, *self._columns) if s is not None]:
            if slot.future is not None:
                slot.future.cancel()

    def _flush(self) -> None:
        """Show what has streamed so far; the last flush also shows status and metrics."""
        with self._writing:
            values: dict[str, Any] = {}
            main, columns = self._main, self._columns
            if main is not None:
                values["answer"] = main.text
                if main.done:
                    values.update(status=main.status, metrics=main.metrics, error=main.error)
            if columns:
                values["compare_results"] = [s.view() for s in columns]
                if all(s.done for s in columns):
                    values["compare_status"] = "done"
            self._apply(**values)
            finished = all(s.done for s in (main, *columns) if s is not None)
            if finished and not self._idle.is_set():
                self._idle.set()
                if self.view == "history":
                    self._history()

    # -- history, code, notebook --

    def _history(self, search: str | None = None, model: str | None = None) -> None:
        if search is not None or model is not None:
            self._history_filter = {"search": search or "", "model": model or ""}
        wanted = dict(self._history_filter)

        def job() -> None:
            try:
                frame = self._pg.history(limit=50, search=wanted.get("search") or None,
                                         model=wanted.get("model") or None)
            except NbPlaygroundError as e:
                self._say(str(e), "error")
                return
            self._apply(history=state.history_rows(frame))

        self._jobs.submit("history", job)

    def _load(self, experiment_id: str) -> None:
        if self._busy():
            raise InvalidInput("stop the current run before loading another one")
        exp = self._pg.get(experiment_id)
        self._main = None
        self._apply(**state.config_of(exp), answer=exp.response, view="chat",
                    status="done" if exp.ok else "error",
                    metrics=state.metrics_of(exp) if exp.ok else {},
                    error={} if exp.ok else state.error_of(kind=exp.error_type, text=exp.error))

    def _code(self) -> None:
        config, columns = self._config(), list(self.compare_columns)

        def job() -> None:
            try:
                code = self._code_for(config)
                code["compare"] = self._compare_code(config, columns)
            except NbPlaygroundError as e:
                code = {"error": str(e)}
            self._apply(code=code)

        self._jobs.submit("code", job)

    def _code_for(self, config: dict[str, Any]) -> dict[str, str]:
        from nbplayground.results import Experiment

        prompt, kwargs = state.request(config)
        cell = self._pg.prepare(prompt, **kwargs)
        exp = Experiment(user_id=self._pg.user, model=cell.request.model, provider=cell.provider,
                         messages=cell.request.messages, parameters=cell.request.parameters,
                         base_url=cell.base_url, request_body=cell.request.body())
        code = {"notebook": run_cell(variable_name(self._pg), prompt, kwargs,
                                     self._pg.provider)}
        try:
            for language in ("python", "javascript", "curl"):
                code[language] = exp.code(language)  # type: ignore[arg-type]
        except ImportError:  # the API Integration context is optional for the panel
            code.update(dict.fromkeys(("python", "javascript", "curl"),
                                      "# code generation is not available in this install\n"))
        return code

    def _compare_code(self, base: dict[str, Any], columns: list[dict[str, Any]]) -> str:
        prompt = state.request(base)[0]
        runs = [state.request({**base, "model": c.get("model", ""),
                               "provider": c.get("provider") or base["provider"],
                               "params": dict(c.get("params") or {})})[1] for c in columns]
        return compare_cell(variable_name(self._pg), prompt, runs, self._pg.provider)

    def _notebook(self, compare: bool, view: Any) -> None:
        config = self._config()
        if compare:
            text = self._compare_code(config, list(self.compare_columns)[:MAX_COLUMNS])
        else:
            text = run_cell(variable_name(self._pg), *state.request(config), self._pg.provider)
        self.send({"type": "insert", "code": text, "model_id": self.model_id, "view": view})

    # -- presets --

    def _save_preset(self, name: Any) -> None:
        saved = self._store.save(name, self._config())
        self._apply(presets=self._store.names())
        self._say(f"Saved preset “{saved}”")

    def _load_preset(self, name: str) -> None:
        config = self._store.load(name)
        params = {**state.DEFAULT_PARAMS, **(config.pop("params", None) or {})}
        self._apply(**config, params=params)
        self._say(f"Loaded preset “{name}”")

    def _delete_preset(self, name: str) -> None:
        self._store.delete(name)
        self._apply(presets=self._store.names())
        self._say(f"Deleted preset “{name}”")

    def _estimate(self) -> None:
        config = self._config()

        def job() -> None:
            if not config["prompt"].strip() and not config["messages"]:
                self._apply(estimate={})
                return
            try:
                prompt, kwargs = state.request(config)
                estimate = state.estimate_of(self._pg.preview(prompt, **kwargs))
            except NbPlaygroundError as e:
                estimate = {"error": str(e)}
            self._apply(estimate=estimate)

        self._jobs.submit("estimate", job)


def _initial_config(pg: Playground, initial: dict[str, Any]) -> dict[str, Any]:
    provider = initial.get("provider") or pg.provider
    model = initial.get("model") or pg.default_model(provider)
    params = dict(state.DEFAULT_PARAMS)
    for name in PARAMETER_NAMES:
        value = initial.get(name)
        if value is not None:
            params[name] = [value] if name == "stop" and isinstance(value, str) else value
    prompt, messages = initial.get("prompt") or "", list(initial.get("messages") or [])
    if not isinstance(prompt, str):  # a conversation, as pg.run takes it
        turns = [dict(m) for m in prompt]
        prompt = turns.pop()["content"] if turns and turns[-1].get("role") == "user" else ""
        messages += turns
    return {"model": model, "provider": provider, "system": initial.get("system") or "",
            "messages": messages, "prompt": prompt, "params": params}
