"""The panel in a real JupyterLab, driven by headless chromium through Python playwright.

One JupyterLab server and one page for the module; the tests run in file order on the same
notebook (run, code, compare, history, screenshot, save).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.openai_stub import OpenAIStub

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# No hex runs: an 8-character piece of a key must not match an id by chance.
CANARY = "sk-proj-CANARYbrowserQWRTYUPKJH"
CANARY_ARG = "sk-CANARYqzjxwvkZXVNMQWRTYU"  # no English word in it
SHOT_PROMPT = "Explain what a context window is to a new engineer, in three sentences."
SHOT_ANSWER = (
    "A context window is the amount of text a model can read at once, counted in tokens: the "
    "system message, the conversation so far and the answer it is writing all have to fit "
    "inside it.\n\nWhen a chat grows past that limit, the oldest parts are dropped or have to be "
    "summarised, so the model simply cannot see them anymore.\n\nThat is why long prompts cost "
    "more, and why trimming what you send often makes answers both faster and better.")
NOTEBOOK_CELLS = [
    # The panel under test: simulated answers, and a key given to the Playground that the
    # simulated provider never needs (it must not reach the saved notebook either).
    "import os\n\n"
    "from nbplayground import Endpoint, Playground\n\n"
    "pg = Playground(db='runs.duckdb', provider='simulated', simulated_latency=1.2,\n"
    "                api_key=os.environ['CANARY_ARG'])\n"
    "panel = pg.panel(system='You are a concise writing assistant.')\n"
    "panel",
    # A second panel on an OpenAI-compatible endpoint that checks the key (the loopback stub),
    # for the screenshot: it holds and sends a real key.
    "from nbplayground import scorers as s\n\n"
    "shot = Playground(db='shot.duckdb', provider=Endpoint(base_url=os.environ['STUB_URL'],\n"
    "                  api_key=os.environ['OPENAI_API_KEY']))\n"
    "shot.panel(system='You are a patient senior engineer. Answer plainly, without jargon.',\n"
    "           model='gpt-4o-mini', temperature=0.7, max_tokens=400,\n"
    "           scorers=[s.icontains('tokens', name='mentions tokens'), s.cost(max_usd=0.001),\n"
    "                    s.latency(max_ms=1000)])",
    # A slow answer (a minute), to be stopped mid-stream.
    "slow = Playground(db='slow.duckdb', provider='simulated', simulated_latency=60)\n"
    "slow.panel(prompt='Tell me a long story about a lighthouse keeper.', max_tokens=400)",
    # The modern request surface against a stub that answers tools, schemas and logprobs; the
    # tools editor finds get_weather in this notebook by its name.
    "def get_weather(city: str) -> str:\n"
    "    \"\"\"The weather in a city.\"\"\"\n"
    "    return f'sunny in {city}'\n\n"
    "modern = Playground(db='modern.duckdb', provider=Endpoint(\n"
    "    base_url=os.environ['MODERN_URL'], api_key=os.environ['OPENAI_API_KEY']))\n"
    "modern.panel(prompt='Use get_weather for Paris.', model='gpt-4o-mini', max_tokens=60)",
]
PANELS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _notebook(cells: list[str]) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "cells": [{"cell_type": "code", "id": f"cell{i}", "metadata": {},
                       "execution_count": None, "outputs": [], "source": src}
                      for i, src in enumerate(cells)]}


@dataclass
class Lab:
    page: Any
    root: Path
    modern: Any = None
    """The stub behind the modern-surface panel: what it was sent."""
    errors: list[str] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)

    def panel(self, index: int = 0) -> Any:
        return self.page.locator(".nbp-root").nth(index)

    def js(self, script: str) -> Any:
        return self.page.evaluate(script)


def _start_lab(tmp: Path, stub_url: str, modern_url: str
               ) -> tuple[subprocess.Popen[bytes], str, Path]:
    root = tmp / "notebooks"
    root.mkdir()
    (root / "panel.ipynb").write_text(json.dumps(_notebook(NOTEBOOK_CELLS)), encoding="utf-8")
    settings = tmp / "lab-settings"
    # The news/update pop-up would cover the panel; the widget manager saves widget state.
    _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    _write_json(settings / "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings",
                {"saveState": True})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "JUPYTER"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"), JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"), JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"), IPYTHONDIR=str(tmp / "ipython"),
        NBPLAYGROUND_CONFIG_DIR=str(tmp / "nbplayground"), OPENAI_API_KEY=CANARY,
        CANARY_ARG=CANARY_ARG, STUB_URL=stub_url, MODERN_URL=modern_url,
        PYTHONDONTWRITEBYTECODE="1")
    token, port = secrets.token_hex(16), _free_port()
    log = tmp / "jupyter.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "jupyter"), "lab", "--no-browser", "--allow-root",
             f"--ServerApp.token={token}", "--ServerApp.ip=127.0.0.1", f"--port={port}",
             f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError(
                    f"JupyterLab did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.25)
    return proc, f"{base}/lab/tree/panel.ipynb?token={token}", root


def _stop_lab(proc: subprocess.Popen[bytes], url: str) -> None:
    base, token = url.split("/lab/")[0], url.rsplit("token=", 1)[1]
    req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5):
            pass
    except OSError:
        proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium)")
    if shutil.which("jupyter", path=str(VENV_BIN)) is None:
        pytest.skip("needs JupyterLab in the virtualenv (the dev extra)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (dev extra)")
    tmp = tmp_path_factory.mktemp("lab")
    # No usage chunk: the stub counts words, the client then counts real tokens (shown as ≈).
    with OpenAIStub(api_key=CANARY, reply_with=SHOT_ANSWER, chunk_delay=0.02,
                    stream_usage=False) as stub, OpenAIStub(api_key=CANARY) as modern:
        proc, url, root = _start_lab(tmp, stub.base_url, modern.base_url)
        pw = sync_api.sync_playwright().start()
        try:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            context = browser.new_context(viewport={"width": 1500, "height": 1100},
                                          permissions=["clipboard-read", "clipboard-write"])
            page = context.new_page()
            page.set_default_timeout(30_000)
            lab = Lab(page, root, modern)
            page.on("console", lambda m: lab.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: lab.errors.append(f"page error: {e}"))
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_function(
                "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel",
                timeout=90_000)
            lab.js("() => window.jupyterapp.shell.collapseLeft()")
            lab.js("() => window.jupyterapp.commands.execute('runmenu:run-all')")
            sync_api.expect(page.locator(".nbp-root")).to_have_count(PANELS, timeout=90_000)
            yield lab
            context.close()
            browser.close()
        finally:
            pw.stop()
            _stop_lab(proc, url)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


CELL_SOURCE = ("i => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
               ".cells[i].getSource()")


def _inserted(lab: Lab, at: int) -> str:
    """The source of the cell "Send to notebook" inserted at `at`, which is then deleted again
    (the notebook keeps its shape for the tests after)."""
    source = str(lab.js(f"() => ({CELL_SOURCE})({at})"))
    lab.js(f"() => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
           f".deleteCell({at})")
    return source


def _param(panel: Any, name: str) -> Any:
    """The side panel's number box of a request field (the test may name fields; the JS not)."""
    return panel.locator(f'.nbp-settings .nbp-param[data-param="{name}"] input.nbp-number')


def test_type_a_prompt_run_it_and_watch_it_stream(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    prompt = a.locator("textarea.nbp-prompt")
    prompt.click()
    # Real key presses: letters such as "a" and "b" must not reach the notebook's shortcuts.
    prompt.press_sequentially("Write a haiku about autumn rain in Kyoto")
    runs = "() => window.jupyterapp.shell.currentWidget.content.model.cells.get(0).executionCount"
    ran = lab.js(runs)
    prompt.press("Shift+Enter")  # a newline in the prompt; the notebook must not re-run the cell
    prompt.press("Backspace")
    expect(prompt).to_have_value("Write a haiku about autumn rain in Kyoto")
    assert lab.js("() => window.jupyterapp.shell.currentWidget.content.model.cells.length") == \
        len(NOTEBOOK_CELLS)
    assert lab.js(runs) == ran
    expect(a.locator(".nbp-estimate")).to_contain_text("prompt tokens")  # counted in the kernel
    a.locator(".nbp-run").click()
    expect(a.locator(".nbp-status")).to_have_text("Streaming…")
    lab.page.wait_for_function(  # part of the answer is on screen while the run goes on
        "el => el.querySelector('.nbp-status').textContent === 'Streaming…' && "
        "el.querySelector('.nbp-answer').textContent.length > 0", arg=a.element_handle())
    expect(a.locator(".nbp-status")).to_have_text("Done")
    metrics = a.locator(".nbp-answer-card .nbp-metric")
    expect(metrics).to_have_count(4)
    expect(metrics.nth(0)).to_contain_text("prompt")
    expect(metrics.nth(3)).to_contain_text("$")
    lab.seen["chat_answer"] = a.locator(".nbp-answer-card .nbp-answer").inner_text()
    assert len(lab.seen["chat_answer"]) > 20


def test_view_code_copy_it_and_send_it_to_the_notebook(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    a.locator('.nbp-tab[data-view="code"]').click()
    code = a.locator(".nbp-code")
    expect(code).to_contain_text("client.chat.completions.create(")
    expect(code).to_contain_text("autumn rain in Kyoto")
    a.locator('.nbp-seg[data-lang="javascript"]').click()
    expect(code).to_contain_text("new OpenAI(")
    a.locator('.nbp-seg[data-lang="curl"]').click()
    expect(code).to_contain_text("curl -sS")
    a.locator(".nbp-copy-code").click()
    expect(a.locator(".nbp-toast")).to_have_text("Code copied")
    assert lab.js("() => navigator.clipboard.readText()").startswith("curl -sS")

    a.locator('.nbp-seg[data-lang="notebook"]').click()
    a.locator(".nbp-send").click()
    expect(a.locator(".nbp-toast")).to_have_text("Inserted a cell below")
    source = lab.js("() => window.jupyterapp.shell.currentWidget.content.model"
                    ".sharedModel.cells[1].getSource()")
    assert source.startswith("exp = pg.run(\n    'Write a haiku about autumn rain in Kyoto',")


def test_compare_columns_start_from_the_chat_settings(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    a.locator('.nbp-tab[data-view="chat"]').click()
    a.locator("select.nbp-model-select").select_option("simulated:gpt-4o")
    _param(a, "max_tokens").fill("300")
    a.locator('.nbp-tab[data-view="compare"]').click()
    columns = a.locator(".nbp-cmp-col")
    for i in range(2):
        expect(columns.nth(i).locator("select.nbp-cmp-model")).to_have_value("simulated:gpt-4o")
        expect(columns.nth(i).locator('[data-param="max_tokens"] input.nbp-number')
               ).to_have_value("300")
    # Untouched columns follow Chat again the next time Compare is opened.
    a.locator('.nbp-tab[data-view="chat"]').click()
    a.locator("select.nbp-model-select").select_option("simulated:gpt-4o-mini")
    _param(a, "max_tokens").fill("256")
    a.locator('.nbp-tab[data-view="compare"]').click()
    expect(columns.nth(0).locator("select.nbp-cmp-model")).to_have_value(
        "simulated:gpt-4o-mini")
    expect(columns.nth(1).locator('[data-param="max_tokens"] input.nbp-number')
           ).to_have_value("256")


def test_compare_two_columns_side_by_side(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    a.locator('.nbp-tab[data-view="compare"]').click()
    expect(a.locator("textarea.nbp-cmp-prompt")).to_have_value(
        "Write a haiku about autumn rain in Kyoto")
    columns = a.locator(".nbp-cmp-col")
    expect(columns).to_have_count(2)
    columns.nth(1).locator("select.nbp-cmp-model").select_option("simulated:gpt-4.1-nano")
    a.locator(".nbp-cmp-run").click()
    expect(a.locator(".nbp-cmp-run")).to_contain_text("Stop")
    for i in range(2):
        expect(columns.nth(i).locator(".nbp-metric")).to_have_count(4)
    expect(a.locator(".nbp-cmp-run")).to_contain_text("Run all")
    lab.seen["nano_answer"] = columns.nth(1).locator(".nbp-cmp-answer").inner_text()
    assert lab.seen["nano_answer"] and columns.nth(0).locator(".nbp-cmp-answer").inner_text()


def test_load_a_run_back_from_history(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    a.locator('.nbp-tab[data-view="history"]').click()
    rows = a.locator(".nbp-h-row")
    expect(rows).to_have_count(3)  # one chat run and two compare columns
    rows.filter(has_text="gpt-4.1-nano").click()
    expect(a.locator('.nbp-tab[data-view="chat"]')).to_have_class("nbp-tab is-active")
    expect(a.locator("select.nbp-model-select")).to_have_value("simulated:gpt-4.1-nano")
    expect(a.locator(".nbp-answer-card .nbp-answer")).to_have_text(lab.seen["nano_answer"])
    expect(a.locator("textarea.nbp-prompt")).to_have_value(
        "Write a haiku about autumn rain in Kyoto")


def test_screenshot_of_a_finished_answer(lab: Lab) -> None:
    expect, b = _expect(), lab.panel(1)
    b.scroll_into_view_if_needed()
    b.locator("textarea.nbp-prompt").fill(SHOT_PROMPT)
    expect(b.locator(".nbp-estimate")).to_contain_text("prompt tokens")
    b.locator("textarea.nbp-prompt").press("Control+Enter")  # runs the panel, not the cell
    expect(b.locator(".nbp-status")).to_have_text("Done")
    expect(b.locator(".nbp-answer-card .nbp-answer")).to_have_text(SHOT_ANSWER)
    expect(b.locator(".nbp-answer-card .nbp-metric")).to_have_count(4)
    lab.page.mouse.move(0, 0)
    lab.js("() => document.activeElement && document.activeElement.blur()")
    # The README's picture is refreshed on request, so a test run leaves the work tree clean.
    out = (REPO / "docs" if os.environ.get("NBPLAYGROUND_UPDATE_SCREENSHOT")
           else REPO / "test-artifacts")
    out.mkdir(exist_ok=True)
    b.screenshot(path=str(out / "panel.png"), animations="disabled")
    assert (out / "panel.png").stat().st_size > 10_000


def test_a_temperature_out_of_range_disables_run_and_says_why(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    box, run = _param(a, "temperature"), a.locator(".nbp-run")
    expect(run).to_be_enabled()
    box.fill("5")
    expect(run).to_be_disabled()
    problem = a.locator('.nbp-settings [data-param="temperature"] .nbp-param-problem')
    expect(problem).to_have_text("Temperature is 5; it must be between 0 and 2")
    expect(a.locator(".nbp-estimate")).to_contain_text("must be between 0 and 2")
    expect(run).to_have_attribute("title", re.compile("between 0 and 2"))
    box.fill("0.7")
    expect(run).to_be_enabled()
    expect(problem).to_be_hidden()


def test_the_estimate_says_simulated_once(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    estimate = a.locator(".nbp-estimate")
    expect(estimate).to_contain_text(" – ")
    assert estimate.inner_text().count("simulated") == 1


def test_send_to_notebook_inserts_the_code_on_screen(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    cells = "() => window.jupyterapp.shell.currentWidget.content.model.cells.length"
    current = a.locator("select.nbp-model-select").input_value().split(":", 1)[1]
    a.locator('.nbp-tab[data-view="code"]').click()
    code = a.locator(".nbp-code")
    for lang in ("python", "compare"):
        a.locator(f'.nbp-seg[data-lang="{lang}"]').click()
        expect(code).to_contain_text(current)  # the code of the configuration on screen
        shown, before = code.inner_text(), lab.js(cells)
        a.locator(".nbp-send").click()
        lab.page.wait_for_function(f"() => ({cells})() === {before + 1}")
        assert _inserted(lab, 1).strip() == shown.strip()
    assert shown.startswith("sw = pg.sweep(") and shown.count("pg.sweep(") == 1
    assert "pg.run(" not in shown
    # Compare's own button inserts the same single sweep of its columns.
    a.locator('.nbp-tab[data-view="compare"]').click()
    before = lab.js(cells)
    a.locator(".nbp-compare .nbp-actions button", has_text="Send to notebook").click()
    lab.page.wait_for_function(f"() => ({cells})() === {before + 1}")
    inserted = _inserted(lab, 1)
    assert inserted.count("pg.sweep(") == 1 and "pg.run(" not in inserted


def test_an_empty_history_search_says_no_run_matches(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    a.locator('.nbp-tab[data-view="history"]').click()
    search = a.locator(".nbp-h-search")
    search.fill("no-such-words-anywhere")
    expect(a.locator(".nbp-empty")).to_have_text(
        "No run matches “no-such-words-anywhere”. Clear the search to see every run.")
    search.fill("")
    expect(a.locator(".nbp-h-row")).to_have_count(3)


def test_stop_mid_stream_keeps_the_partial_answer(lab: Lab) -> None:
    expect, c = _expect(), lab.panel(2)
    c.scroll_into_view_if_needed()
    c.locator(".nbp-run").click()
    lab.page.wait_for_function(
        "el => el.querySelector('.nbp-answer').textContent.length > 20", arg=c.element_handle())
    c.locator(".nbp-run").click()  # now the Stop button
    expect(c.locator(".nbp-status")).to_have_text("Stopped")
    lab.seen["stopped"] = c.locator(".nbp-answer-card .nbp-answer").inner_text()
    assert len(lab.seen["stopped"]) > 20
    expect(c.locator(".nbp-run")).to_contain_text("Run")


def test_a_stopped_run_is_in_history(lab: Lab) -> None:
    expect, c = _expect(), lab.panel(2)
    c.locator('.nbp-tab[data-view="history"]').click()
    row = c.locator(".nbp-h-row")
    try:
        expect(row).to_have_count(1, timeout=5_000)
        expect(row.locator(".nbp-pill.is-stopped")).to_have_text("stopped")
        expect(row).to_contain_text(lab.seen["stopped"][:30])
    finally:
        c.locator('.nbp-tab[data-view="chat"]').click()


def _boxes(lab: Lab, panel: Any) -> dict[str, Any]:
    """Bounding boxes of the panel and the controls that must never be clipped."""
    return dict(panel.evaluate("""root => {
        const box = (el) => { const r = el.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width }; };
        const out = { root: box(root) };
        for (const [name, sel] of [["tabs", ".nbp-tabs"], ["presets", ".nbp-preset-select"],
            ["save", ".nbp-preset-save"], ["keep", ".nbp-keep"],
            ["copy", ".nbp-answer-card .nbp-btn"], ["run", ".nbp-run"],
            ["versions", ".nbp-version-select"], ["version_save", ".nbp-version-save"],
            ["image", ".nbp-attach"]]) {
          const el = root.querySelector(sel);
          out[name] = el ? { ...box(el), scroll: el.scrollWidth > el.clientWidth + 1 } : null;
        }
        const header = root.querySelector(".nbp-header");
        out.header = { ...box(header), overflow: header.scrollWidth > header.clientWidth + 1 };
        return out;
    }"""))


@pytest.mark.parametrize("width", [1100, 1600])
def test_nothing_is_clipped_with_the_file_browser_open(lab: Lab, width: int) -> None:
    expect, b = _expect(), lab.panel(1)
    lab.page.set_viewport_size({"width": width, "height": 1000})
    lab.js("() => window.jupyterapp.commands.execute('filebrowser:activate')")
    lab.page.wait_for_function("() => !window.jupyterapp.shell.leftCollapsed")
    try:
        b.scroll_into_view_if_needed()
        expect(b.locator(".nbp-keep")).to_be_visible()
        out = REPO / "test-artifacts"
        out.mkdir(exist_ok=True)
        lab.page.screenshot(path=str(out / f"lab-{width}.png"))  # to look at
        boxes = _boxes(lab, b)
        root = boxes["root"]
        assert not boxes["header"]["overflow"], boxes
        for name in ("tabs", "presets", "save", "keep", "copy", "run", "versions",
                     "version_save", "image"):
            box = boxes[name]
            assert box is not None and box["width"] > 0, name
            assert root["left"] <= box["left"] and box["right"] <= root["right"] + 0.5, (
                name, box, root)
            assert not box["scroll"], f"{name}'s text is cut"
    finally:
        lab.js("() => window.jupyterapp.shell.collapseLeft()")
        lab.page.set_viewport_size({"width": 1500, "height": 1100})


def test_save_what_is_on_screen_as_a_version_and_load_it_back(lab: Lab) -> None:
    expect, a = _expect(), lab.panel(0)
    a.locator('.nbp-tab[data-view="chat"]').click()
    prompt = a.locator("textarea.nbp-prompt")
    typed_before = prompt.input_value()  # later tests read this panel's prompt: put it back
    prompt.fill("Name a river in Europe.")
    expect(a.locator(".nbp-estimate")).to_contain_text("prompt tokens")
    a.locator(".nbp-version-save").click()
    a.locator(".nbp-version-name").fill("rivers")
    a.locator(".nbp-version-do").click()
    expect(a.locator(".nbp-toast")).to_contain_text("Saved rivers v1")
    picker = a.locator("select.nbp-version-select")
    expect(picker.locator("option")).to_have_text(["Versions", "rivers v1"])
    prompt.fill("Something else entirely.")
    picker.focus()  # as a click on it would: the prompt box is no longer being typed in
    picker.select_option(label="rivers v1")
    expect(prompt).to_have_value("Name a river in Europe.")
    expect(a.locator(".nbp-toast")).to_contain_text("Loaded rivers v1")
    prompt.fill(typed_before)


def test_scores_are_badges_under_the_answer_and_in_every_compare_column(lab: Lab) -> None:
    expect, b = _expect(), lab.panel(1)
    b.scroll_into_view_if_needed()
    badges = b.locator(".nbp-answer-card .nbp-score")
    expect(badges).to_have_count(3)
    expect(badges.nth(0)).to_have_text("✓ mentions tokens")
    expect(badges.nth(0)).to_have_class(re.compile("is-pass"))
    expect(badges.nth(1)).to_have_class(re.compile("is-pass"))
    # The stub streams for about two seconds: over the latency scorer's 1000 ms.
    expect(badges.nth(2)).to_have_class(re.compile("is-fail"))
    assert "ms" in (badges.nth(2).get_attribute("title") or "")
    b.locator('.nbp-tab[data-view="compare"]').click()
    b.locator(".nbp-cmp-run").click()
    columns = b.locator(".nbp-cmp-col")
    for i in range(2):
        expect(columns.nth(i).locator(".nbp-score")).to_have_count(3)
    expect(b.locator(".nbp-cmp-run")).to_contain_text("Run all")


def test_history_filters_by_passed_and_failed_scores(lab: Lab) -> None:
    expect, b = _expect(), lab.panel(1)
    b.locator('.nbp-tab[data-view="history"]').click()
    rows = b.locator(".nbp-h-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".nbp-score")).to_have_count(3)
    verdict = b.locator("select.nbp-h-passed")
    verdict.select_option("failed")
    expect(rows).to_have_count(3)  # each took over 1000 ms
    verdict.select_option("passed")
    expect(b.locator(".nbp-empty")).to_have_text(
        "No run matches passed scores. Clear the search to see every run.")
    verdict.select_option("")
    expect(rows).to_have_count(3)
    b.locator('.nbp-tab[data-view="chat"]').click()
    # The panel without scorers has no such filter.
    expect(lab.panel(0).locator("select.nbp-h-passed")).to_be_hidden()


def _field(panel: Any, name: str) -> Any:
    return panel.locator(f'.nbp-settings .nbp-param[data-param="{name}"]')


def _run_and_wait(panel: Any) -> None:
    """Run, and wait for this run's answer (not the previous one's "Done")."""
    expect, shown = _expect(), panel.locator(".nbp-answer-card .nbp-metrics")
    before = shown.get_attribute("data-run") or ""
    panel.locator(".nbp-run").click()
    expect(shown).not_to_have_attribute("data-run", before)
    # The first structured answer imports jsonschema in the kernel (seconds on a busy machine).
    expect(panel.locator(".nbp-status")).not_to_have_text("Streaming…", timeout=30_000)
    problem = panel.locator(".nbp-answer-card .nbp-error")
    assert shown.get_attribute("data-run") or not problem.is_visible(), problem.inner_text()
    expect(shown).not_to_have_attribute("data-run", "")
    expect(panel.locator(".nbp-status")).to_have_text("Done")


def test_more_fields_fold_holds_the_advanced_controls(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    d.scroll_into_view_if_needed()
    fold = d.locator("details.nbp-more-fields")
    expect(fold).not_to_have_attribute("open", "")
    expect(_field(d, "response_format")).to_be_hidden()
    expect(_field(d, "api")).to_be_visible()  # the API switch is not folded away
    fold.locator("summary").click()
    for name in ("response_format", "tools", "logprobs", "top_logprobs"):
        expect(_field(d, name)).to_be_visible()


def test_the_api_switch_sends_through_the_responses_api(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    api = _field(d, "api").locator("select")
    api.select_option("responses")
    d.locator('.nbp-tab[data-view="code"]').click()
    expect(d.locator(".nbp-code")).to_contain_text("client.responses.create(")
    d.locator('.nbp-tab[data-view="chat"]').click()
    before = lab.modern.count("/v1/responses")
    _run_and_wait(d)
    assert lab.modern.count("/v1/responses") == before + 1
    api.select_option("chat")
    d.locator('.nbp-tab[data-view="code"]').click()
    expect(d.locator(".nbp-code")).to_contain_text("client.chat.completions.create(")
    d.locator('.nbp-tab[data-view="chat"]').click()


def test_the_json_schema_editor_shapes_the_answer(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    editor = _field(d, "response_format").locator("textarea")
    editor.fill('{"type": "object", "properties"')
    expect(_field(d, "response_format").locator(".nbp-json-hint")).to_contain_text("Not JSON yet")
    schema = {"type": "object", "properties": {"city": {"type": "string"}},
              "required": ["city"], "additionalProperties": False}
    editor.fill(json.dumps(schema))
    expect(_field(d, "response_format").locator(".nbp-json-hint")).to_have_text("")
    _run_and_wait(d)
    text = d.locator(".nbp-answer-card .nbp-answer").inner_text()
    sent = lab.modern.requests[-1].body
    assert text.startswith("{"), (text, sent)
    assert set(json.loads(text)) == {"city"}
    assert sent["response_format"]["json_schema"]["schema"] == schema
    editor.fill("")


def test_the_tools_editor_takes_a_notebook_function_and_shows_its_calls(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    tools = _field(d, "tools").locator("textarea")
    tools.fill("get_wether")
    expect(d.locator(".nbp-estimate")).to_contain_text(
        "no function named 'get_wether' is defined in this notebook")
    expect(d.locator(".nbp-run")).to_be_disabled()
    tools.fill("get_weather")
    expect(d.locator(".nbp-run")).to_be_enabled()
    _run_and_wait(d)
    step = d.locator(".nbp-answer-card details.nbp-tool-step")
    expect(step).to_have_count(1)
    expect(step.locator("summary")).to_contain_text("get_weather(")
    expect(step.locator(".nbp-tool-result")).to_be_hidden()  # folded until opened
    step.locator("summary").click()
    expect(step.locator(".nbp-tool-result")).to_have_text(re.compile(r"^sunny in "))
    tools.fill("")


def test_logprobs_tint_each_token_with_alternatives_on_hover(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    _field(d, "logprobs").locator("input.nbp-toggle").check()
    _param(d, "top_logprobs").fill("3")
    _run_and_wait(d)
    tokens = d.locator(".nbp-answer-card .nbp-token")
    expect(tokens.first).to_be_visible()
    assert tokens.count() > 3
    first = tokens.first
    first.hover()
    title = first.get_attribute("title") or ""
    assert re.match(r"^\d+(\.\d)?%\n", title) and title.count("\n") == 3, title  # 3 alternatives
    assert "--nbp-p:" in (first.get_attribute("style") or "")
    _field(d, "logprobs").locator("input.nbp-toggle").uncheck()
    expect(d.locator(".nbp-run")).to_be_disabled()  # top alternatives need log probabilities
    expect(d.locator(".nbp-estimate")).to_contain_text("top_logprobs needs logprobs")
    _param(d, "top_logprobs").fill("")  # empty: not sent
    expect(d.locator(".nbp-run")).to_be_enabled()


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_an_image_is_attached_by_picking_or_dropping_and_sent_with_the_prompt(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    chips = d.locator(".nbp-image-chip")
    d.locator("input.nbp-file").set_input_files(
        files=[{"name": "chart.png", "mimeType": "image/png", "buffer": _png()}])
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("chart.png")
    # A drop on the prompt card, as a file dragged from the desktop arrives.
    d.locator(".nbp-prompt-card").evaluate("""(card, bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], "photo.png", { type: "image/png" }));
        card.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true,
                                                   cancelable: true }));
    }""", list(_png()))
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text("photo.png")
    _run_and_wait(d)
    content = lab.modern.requests[-1].body["messages"][-1]["content"]
    urls = [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]
    assert len(urls) == 2 and all(u.startswith("data:image/png;base64,") for u in urls)
    for _ in range(2):
        chips.first.locator(".nbp-chip-x").click()
        expect(chips).to_have_count(len(urls) - 1 - _)


def test_a_reasoning_model_shows_its_reasoning_tokens(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    select = d.locator("select.nbp-model-select")
    select.select_option(select.evaluate(
        "s => [...s.options].map(o => o.value).find(v => v.endsWith(':o4-mini'))"))
    _param(d, "max_tokens").fill("200")
    _run_and_wait(d)
    chip = d.locator(".nbp-answer-card .nbp-metric", has_text="reasoning")
    expect(chip).to_have_text("8 reasoning")
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    d.screenshot(path=str(out / "modern.png"), animations="disabled")


def test_a_saved_three_turn_conversation_loads_back_whole_and_runs(lab: Lab) -> None:
    expect, d = _expect(), lab.panel(3)
    d.locator('.nbp-tab[data-view="chat"]').click()
    turns, prompt = d.locator(".nbp-turn"), d.locator("textarea.nbp-prompt")
    typed_before = prompt.input_value()
    for said in ("Plan a day in Lisbon.", "Start at Belém, then ride tram 28 up to Alfama."):
        d.locator(".nbp-add-turn").click()
        turns.last.locator("textarea").fill(said)
    expect(turns.locator(".nbp-role")).to_have_text(["user", "assistant"])
    prompt.fill("Which of these is in the photo?")
    d.locator("input.nbp-file").set_input_files(
        files=[{"name": "tram.png", "mimeType": "image/png", "buffer": _png()}])
    expect(d.locator(".nbp-image-chip")).to_have_count(1)
    d.locator(".nbp-version-save").click()
    d.locator(".nbp-version-name").fill("lisbon")
    d.locator(".nbp-version-do").click()
    expect(d.locator(".nbp-toast")).to_contain_text("Saved lisbon v1")

    # Clear the screen, then load the version: all three turns and the photo come back.
    while turns.count():
        turns.first.locator(".nbp-icon-btn").click()
    d.locator(".nbp-image-chip .nbp-chip-x").click()
    prompt.fill("Something else.")
    expect(d.locator(".nbp-image-chip")).to_have_count(0)
    picker = d.locator("select.nbp-version-select")
    picker.focus()
    picker.select_option(label="lisbon v1")
    expect(d.locator(".nbp-toast")).to_contain_text("Loaded lisbon v1")
    expect(turns.locator(".nbp-role")).to_have_text(["user", "assistant"])
    expect(turns.nth(0).locator("textarea")).to_have_value("Plan a day in Lisbon.")
    expect(turns.nth(1).locator("textarea")).to_have_value(
        "Start at Belém, then ride tram 28 up to Alfama.")
    expect(prompt).to_have_value("Which of these is in the photo?")
    expect(d.locator(".nbp-image-chip")).to_have_count(1)
    _run_and_wait(d)
    sent = lab.modern.requests[-1].body["messages"]
    assert [m["role"] for m in sent if m["role"] != "system"] == ["user", "assistant", "user"]
    assert sent[-1]["content"][0] == {"type": "text", "text": "Which of these is in the photo?"}
    assert sent[-1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    lab.page.set_viewport_size({"width": 1100, "height": 1100})
    try:
        lab.page.mouse.move(0, 0)
        lab.js("() => document.activeElement && document.activeElement.blur()")
        out = REPO / "test-artifacts"
        out.mkdir(exist_ok=True)
        d.screenshot(path=str(out / "conversation.png"), animations="disabled")
    finally:
        lab.page.set_viewport_size({"width": 1500, "height": 1100})
    while turns.count():  # the tests after see the panel as it was
        turns.first.locator(".nbp-icon-btn").click()
    d.locator(".nbp-image-chip .nbp-chip-x").click()
    prompt.fill(typed_before)


def test_a_two_provider_compare_is_one_sweep_cell_and_runs_as_one(lab: Lab) -> None:
    expect, b = _expect(), lab.panel(1)  # an Endpoint (the stub) beside the simulated provider
    b.scroll_into_view_if_needed()
    b.locator('.nbp-tab[data-view="compare"]').click()
    columns = b.locator(".nbp-cmp-col")
    expect(columns).to_have_count(2)
    columns.nth(1).locator("select.nbp-cmp-model").select_option("simulated:gpt-4o")
    cells = "() => window.jupyterapp.shell.currentWidget.content.model.cells.length"
    before = lab.js(cells)
    b.locator(".nbp-compare .nbp-actions button", has_text="Send to notebook").click()
    lab.page.wait_for_function(f"() => ({cells})() === {before + 1}")
    below = 1 + int(lab.js(  # the cell below this panel's own
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
        ".findIndex(c => c.getSource().includes('shot = Playground('))"))
    inserted = _inserted(lab, below)
    assert inserted.startswith("sw = shot.sweep(") and inserted.count(".sweep(") == 1
    assert ".run(" not in inserted
    assert "provider=['openai', 'simulated']" in inserted and "mode='zip'" in inserted
    b.locator(".nbp-cmp-run").click()
    for i in range(2):
        expect(columns.nth(i).locator(".nbp-metric")).to_have_count(4)
    expect(b.locator(".nbp-cmp-run")).to_contain_text("Run all")
    expect(columns.nth(1)).to_contain_text("simulated")
    lab.page.mouse.move(0, 0)
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    b.screenshot(path=str(out / "compare-two-providers.png"), animations="disabled")
    b.locator('.nbp-tab[data-view="history"]').click()
    expect(b.locator(".nbp-h-row")).to_have_count(5)  # three before, and this sweep's two
    b.locator('.nbp-tab[data-view="chat"]').click()


def test_saved_notebook_holds_widget_state_but_no_key_and_console_is_clean(lab: Lab) -> None:
    path = lab.root / "panel.ipynb"
    before = path.stat().st_mtime_ns
    lab.js("() => window.jupyterapp.commands.execute('docmanager:save')")
    deadline = time.monotonic() + 20
    while path.stat().st_mtime_ns == before and time.monotonic() < deadline:
        time.sleep(0.1)
    text = path.read_text(encoding="utf-8")
    state = json.loads(text)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
    prompts = [m["state"].get("prompt") for m in state["state"].values()]
    assert "Write a haiku about autumn rain in Kyoto" in prompts and SHOT_PROMPT in prompts
    for key in (CANARY, CANARY_ARG):
        leaked = {key[i:i + 8] for i in range(len(key) - 7)} & {
            text[i:i + 8] for i in range(len(text) - 7)}
        assert not leaked, f"pieces of a key in the saved notebook: {sorted(leaked)[:3]}"
    assert lab.errors == []
