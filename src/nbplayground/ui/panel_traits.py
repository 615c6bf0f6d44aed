"""The panel's synced state: the traits the browser and the kernel share (configuration,
what the kernel shows), and the files of its front end."""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets as t

_HERE = Path(__file__).parent


class PanelTraits(anywidget.AnyWidget):
    """The playground panel's state; PlaygroundPanel adds what it does with it."""

    _esm = _HERE / "panel.js"
    _css = _HERE / "panel.css"

    # The configuration: edited in the browser (and by load / presets).
    model = t.Unicode("").tag(sync=True)
    provider = t.Unicode("").tag(sync=True)
    system = t.Unicode("").tag(sync=True)
    messages = t.List(t.Dict()).tag(sync=True)
    prompt = t.Unicode("").tag(sync=True)
    params = t.Dict().tag(sync=True)
    fields = t.List(t.Dict()).tag(sync=True)
    """The request fields' controls, from the field table: the browser names none itself."""
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
    prompt_versions = t.List(t.Dict()).tag(sync=True)  # saved versions: name, version, label
    attachments = t.List(t.Dict()).tag(sync=True)  # described: the bytes stay in the kernel
    scorer_names = t.List(t.Unicode()).tag(sync=True)
    """The names of pg.panel(scorers=[...]): each run's scores show as badges."""
    notice = t.Dict().tag(sync=True)

