"""A canary key pushed through everything leaves no trace: not the key, not a piece, not a mask.

Runs, a streamed run, a sweep, a 401 (run, sweep and login), a budget refusal, set_key into the
keyring and the key file, generated code, reprs, DataFrames and DEBUG logs of nbplayground,
openai, httpx and httpcore. The panel's widget state and saved notebook are covered in tests/ui.
"""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbplayground.errors import AuthenticationFailed, BudgetExceeded, NbPlaygroundError
from tests.accounts.conftest import MemoryKeyring
from tests.support.openai_stub import OpenAIStub, mask_key

CANARY = "sk-proj-Qm7Zt4Lp9Xw2Rk8Vn3Hs6Jd1"
LOGGERS = ("", "nbplayground", "openai", "httpx", "httpcore", "httpx2", "httpcore2", "keyring",
           "asyncio")


def traces(text: str) -> list[str]:
    """Every way the canary could show: whole, any 8 characters of it, or masked."""
    found = [f"piece {CANARY[i:i + 8]!r}" for i in range(len(CANARY) - 7)
             if CANARY[i:i + 8] in text]
    for masked in ("sk-…" + CANARY[-4:], "sk-..." + CANARY[-4:], "****" + CANARY[-4:],
                   mask_key(CANARY), "..." + CANARY[-4:], "…" + CANARY[-4:]):
        if masked in text:
            found.append(f"mask {masked!r}")
    return found


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything every logger says, at DEBUG, as text."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield out
    logging.getLogger().removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def explain(err: BaseException) -> str:
    """The exception as a notebook would show it, plus every exception chained to it."""
    parts = ["".join(traceback.format_exception(err))]
    seen: BaseException | None = err
    while seen is not None:
        parts += [str(seen), repr(seen), repr(vars(seen))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def test_the_canary_key_leaves_no_trace(
        make_pg: Any, db: Path, stub: OpenAIStub, memory_keyring: MemoryKeyring,
        debug_log: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts: list[str] = []
    errors: list[BaseException] = []
    with OpenAIStub(api_key=CANARY) as good:
        pg = make_pg(user="alice", provider="openai", api_key=CANARY, base_url=good.base_url)
        texts += [repr(pg), repr(vars(pg)), str(pg.login()), str(pg.whoami())]
        exp = pg.run("Say hi", max_tokens=8)
        streamed: list[str] = []
        pg.run("Stream hi", max_tokens=8, on_token=streamed.append)
        sw = pg.sweep(["a", "b"], temperature=[0.0, 1.0], max_tokens=6, progress=False)
        assert exp.ok and sw.count("ok") == 4 and streamed
        texts += [exp.code(lang) for lang in ("python", "javascript", "curl")]
        texts += [exp.code("python", stream=True), repr(exp), exp._repr_html_(), sw.summary(),
                  sw._repr_html_(), exp.model_dump_json()]
        texts.append(pg.set_key(CANARY, store="keyring"))
        texts.append(pg.set_key(CANARY, store="file"))
        texts.append(str(pg.whoami()))
        pg.set_limits(daily_usd=0.0)
        with pytest.raises(BudgetExceeded) as refused:
            pg.run("over budget", max_tokens=8)
        errors.append(refused.value)
        texts += [pg.history().to_csv(), pg.usage(by="model").to_csv(), str(pg.budget()),
                  pg.repository.requests().to_csv(), pg.repository.query(
                      "select * from users").to_csv()]

    # the same key, refused by a server that expects another one (the stub fixture)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    bad = make_pg(user="bob", provider="openai", base_url=stub.base_url)
    failed = bad.run("refused", max_tokens=8)
    assert failed.error_type == "AuthenticationFailed"
    texts += [str(failed), failed.error or "", repr(failed), failed._repr_html_()]
    bad_sweep = bad.sweep(["x", "y"], max_tokens=4, progress=False)
    assert bad_sweep.count("failed") == 2
    texts.append(bad_sweep.to_pandas().to_csv())
    with pytest.raises(AuthenticationFailed) as login:
        bad.login()
    errors.append(login.value)
    with pytest.raises(NbPlaygroundError) as invalid:
        bad.set_key(CANARY + " tail", store="file")
    errors.append(invalid.value)
    for pg_ in (pg, bad):
        pg_.close()

    assert traces(f"<{CANARY[9:17]}>") and traces(f"key ****{CANARY[-4:]}.")  # the detector
    assert exp.ok and memory_keyring.secrets  # the canary really went everywhere
    assert (tmp_path / "config" / "openai_key").read_text().strip() == CANARY
    blob = db.read_bytes()
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        blob += wal.read_bytes()
    assert b"Say hi" in blob  # the file really holds the log
    assert traces(blob.decode("latin-1")) == []
    assert "chat/completions" in debug_log.getvalue()  # DEBUG logging really was on
    assert traces(debug_log.getvalue()) == []
    assert traces("\n".join(explain(e) for e in errors)) == []
    assert traces("\n".join(texts)) == []
