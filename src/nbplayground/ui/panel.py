"""PlaygroundPanel: the anywidget playground. It talks only to the Playground facade; every run
goes through `pg.submit`, so it is logged exactly like `pg.run`."""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import traitlets as t

from nbplayground.domain.parameters import PARAMETER_NAMES
from nbplayground.domain.prompts import PromptVersion
from nbplayground.errors import InvalidInput
from nbplayground.ui import state, versions
from nbplayground.ui.attachments import Attached, attach, described
from nbplayground.ui.code import code_bundle, estimate_for, notebook_cell
from nbplayground.ui.compare import start_columns
from nbplayground.ui.panel_traits import PanelTraits
from nbplayground.ui.presets import PresetStore, preset_action, saved_names
from nbplayground.ui.scoring import PanelScorer, history_job
from nbplayground.ui.streaming import LatestOnly, Slot, Throttle, flushed, start

if TYPE_CHECKING:
    from nbplayground.ui.ports import Facade

_CONFIG = ("model", "provider", "system", "messages", "prompt", "params")
_INITIAL = {"prompt", "model", "provider", "system", "messages", *PARAMETER_NAMES}
MAX_COLUMNS = 4
FLUSH_INTERVAL = 0.05  # seconds: at most 20 widget updates per second per panel
# Each update resends the whole answer; long answers update less often so the stream stays far
# below the Jupyter server's IOPub data rate limit (1 MB/s by default).
STREAM_BYTES_PER_SECOND = 400_000


class PlaygroundPanel(PanelTraits):
    """Model, system message, conversation, parameters, Run/Stop, streamed answer, metrics,
    history, side-by-side compare and code. Holds no key and no database connection."""

    def __init__(self, pg: Facade, *, scorers: Any = None, **initial: Any) -> None:
        unknown = sorted(set(initial) - _INITIAL)
        if unknown:
            raise InvalidInput(f"panel() does not take {unknown[0]!r}; it takes "
                               f"{', '.join(sorted({*_INITIAL, 'scorers'}))}")
        self._pg = pg
        self._scorer = PanelScorer(pg, scorers)
        self._images: list[Attached] = []
        self._writing = threading.RLock()
        self._jobs = LatestOnly()
        self._slow = LatestOnly()  # listing an endpoint's models may wait on the network
        self._main: Slot | None = None
        self._columns: list[Slot] = []
        self._throttle = Throttle(self._flush, FLUSH_INTERVAL)
        self._idle = threading.Event()
        self._idle.set()
        self._history_filter: dict[str, str] = {}
        self._notices = itertools.count(1)
        self._store = PresetStore()
        # The prompt version loaded or saved last (runs from it while on screen are tagged).
        given = initial.get("prompt")
        self._shown: Any = given if isinstance(given, PromptVersion) else None
        config = state.initial_config(pg.provider, pg.default_model, initial)
        self._images = config.pop("images")
        self._seeded = state.seed_columns(config)
        super().__init__(**config, compare_columns=self._seeded,
                         models=state.fallback_entries(config["provider"], config["model"]),
                         default_provider=pg.provider, presets=saved_names(self._store),
                         prompt_versions=versions.listed(pg),
                         disabled=state.unsupported(config["model"], config["params"].get("api")),
                         fields=state.controls(),
                         scorer_names=self._scorer.names, attachments=described(self._images))
        self.on_msg(self.receive)
        current = (config["provider"], config["model"])
        self._slow.submit("models", lambda: self._apply(
            models=state.model_entries(pg.models(), current)))
        self._estimate()

    def _apply(self, **values: Any) -> None:
        """Set traits from any thread, as one widget update."""
        with self._writing, self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    def _config(self) -> dict[str, Any]:
        with self._writing:
            return {"model": self.model, "provider": self.provider, "system": self.system,
                    "messages": [dict(m) for m in self.messages], "prompt": self.prompt,
                    "params": dict(self.params), "images": list(self._images)}

    def _say(self, text: str, level: str = "info") -> None:
        self._apply(notice={"text": text, "level": level, "n": next(self._notices)})

    def wait(self, timeout: float | None = 60.0) -> bool:
        """Block until the runs and the background look-ups have finished (for scripts, tests)."""
        # Idle first: a run's scoring job is queued before the run counts as done.
        return all(w(timeout) for w in (self._idle.wait, self._scorer.jobs.wait,
                                        self._jobs.wait, self._slow.wait))

    def close(self) -> None:
        if hasattr(self, "_throttle"):  # not when __init__ refused its arguments
            self._stop()
            self._throttle.cancel()
        super().close()

    @t.observe("model", "params")
    def _model_changed(self, change: dict[str, Any]) -> None:
        off = state.unsupported(self.model, self.params.get("api"))
        if off != self.disabled:
            self._apply(disabled=off)

    @t.observe(*_CONFIG, "compare_columns")
    def _config_changed(self, change: dict[str, Any]) -> None:
        if change["name"] != "compare_columns":
            self._estimate()
        if self.view == "code":
            self._code()

    @t.observe("view")
    def _view_changed(self, change: dict[str, Any]) -> None:
        if change["new"] == "compare":
            self._seed_columns()
        elif change["new"] == "history":
            self._history()
        elif change["new"] == "code":
            self._code()

    def _seed_columns(self) -> None:
        """Columns nobody has edited start from the Chat settings Compare is opened from."""
        with self._writing:
            if self._busy() or [dict(c) for c in self.compare_columns] != self._seeded:
                return
            self._seeded = state.seed_columns(self._config())
            self._apply(compare_columns=self._seeded)

    def receive(self, _widget: Any, content: dict[str, Any], buffers: Any = None) -> None:
        """The custom-message handler: {"action": "run" | "stop" | "compare" | ...}."""
        action = content.get("action") if isinstance(content, dict) else None
        handlers: dict[str, Callable[[], None]] = {
            "run": lambda: self._run(), "stop": lambda: self._stop(),
            "compare": lambda: self._compare(),
            "history": lambda: self._history({k: str(content.get(k) or "") for k in
                                              ("search", "model", "passed")}),
            "load": lambda: self._load(str(content.get("id") or "")),
            "code": lambda: self._code(),
            "attach": lambda: self._attach(lambda had: attach(had, content.get("name"), buffers)),
            "detach": lambda: self._attach(lambda had: [
                im for i, im in enumerate(had) if i != content.get("index")]),
            "notebook": lambda: self._notebook(str(content.get("what") or "chat"),
                                               content.get("view")),
            **{f"{verb}_{kind}": functools.partial(self._saved, kind, verb, content)
               for kind, verbs in (("preset", ("save", "load", "delete")),
                                   ("version", ("save", "load"))) for verb in verbs},
        }
        handler = handlers.get(str(action))
        if handler is None:
            self._say(f"unknown panel action {action!r}", "error")
            return
        try:
            handler()
        except Exception as e:  # shown in plain words in the panel, never as a traceback
            self._say(state.error_of(e)["detail"], "error")

    def _attach(self, change: Callable[[list[Attached]], list[Attached]]) -> None:
        with self._writing:
            self._images = change(self._images)
            self._apply(attachments=described(self._images))
        self._estimate()
        if self.view == "code":
            self._code()

    def _busy(self) -> bool:
        return not self._idle.is_set()

    def _run(self) -> None:
        if self._busy():
            return
        slot = Slot()
        with self._writing:
            self._idle.clear()
            self._main = slot
            self._apply(status="running", answer="", metrics={}, error={})
        config = self._config()
        start(self._pg, slot, {**config, "version": versions.still_shown(self._shown, config)},
              self._throttle.poke, self._scorer.then(slot, self._flush))
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
        start_columns(self._pg, slots, base, columns, self._throttle.poke,
                      lambda slot: self._scorer.then(slot, self._flush))
        self._throttle.poke()

    def _stop(self) -> None:
        for slot in [s for s in (self._main, *self._columns) if s is not None]:
            if slot.future is not None:
                slot.future.cancel()

    def _flush(self) -> None:
        """Show what has streamed so far; the last flush also shows status and metrics."""
        with self._writing:
            values, finished = flushed(self._main, self._columns)
            self._apply(**values)
            size = len(self.answer) + sum(len(r["answer"]) for r in self.compare_results)
            self._throttle.interval = max(FLUSH_INTERVAL, size / STREAM_BYTES_PER_SECOND)
            if finished and not self._idle.is_set():
                self._idle.set()
                if self.view == "history":
                    self._history()

    def _history(self, wanted: dict[str, str] | None = None) -> None:
        if wanted is not None:
            self._history_filter = wanted
        self._jobs.submit("history", history_job(
            self._pg, self._scorer, dict(self._history_filter),
            lambda rows: self._apply(history=rows),
            lambda e: self._say(state.error_of(e)["detail"], "error")))

    def _load(self, experiment_id: str) -> None:
        if self._busy():
            raise InvalidInput("stop the current run before loading another one")
        exp = self._pg.get(experiment_id)
        self._main = None
        self._apply(**state.loaded(exp, self._scorer.score(exp, judges=False)), view="chat")

    def _code(self) -> None:
        config, columns = self._config(), list(self.compare_columns)
        self._jobs.submit("code", lambda: self._apply(code=code_bundle(self._pg, config,
                                                                       columns)))

    def _notebook(self, what: str, view: Any) -> None:
        text = notebook_cell(self._pg, self._config(), list(self.compare_columns)[:MAX_COLUMNS],
                             what)
        self.send({"type": "insert", "code": text, "model_id": self.model_id, "view": view,
                   "what": what})

    def _saved(self, kind: str, verb: str, content: dict[str, Any]) -> None:
        """Presets (save, load, delete) and prompt versions (save what is on screen, load)."""
        if kind == "preset":
            values, message = preset_action(self._store, verb, content.get("name"),
                                            self._config())
        else:
            self._shown, values, images, message = versions.action(
                self._pg.prompts, verb, content, self._config())
            if images is not None:
                with self._writing:
                    self._images = images
        self._apply(**values)
        self._say(message)

    def _estimate(self) -> None:
        config = self._config()
        self._jobs.submit("estimate", lambda: self._apply(estimate=estimate_for(self._pg,
                                                                               config)))
