"""API keys: resolution order, storing with set_key, checking with login, and never printing."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import chainer, fail

from nbplayground.accounts import ApiKey, EnvSecret, KeyResolver, fingerprint
from nbplayground.adapters.file_secrets import FileSecretStore
from nbplayground.configuration import Endpoint
from nbplayground.errors import (
    AuthenticationFailed,
    ConfigurationError,
    InvalidInput,
    MissingApiKey,
)
from tests.accounts.conftest import MemoryKeyring
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

ARG, RING, ENV, FILE = ("sk-arg-0000000000", "sk-ring-111111111", "sk-env-2222222222",
                        "sk-file-333333333")


def key_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "openai_key"


def test_resolution_order_argument_keyring_env_file(
        make_pg: Any, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    FileSecretStore(key_file(tmp_path)).set(FILE)
    monkeypatch.setenv("OPENAI_API_KEY", ENV)
    memory_keyring.set_password("nbplayground", "openai_api_key", RING)

    def source(**kwargs: Any) -> tuple[str | None, str | None]:
        who = make_pg(user="alice", provider="openai", **kwargs).whoami()
        return who["key_source"], who["key_fingerprint"]

    assert source(api_key=ARG) == ("argument", fingerprint(ARG))
    assert source() == ("keyring", fingerprint(RING))
    memory_keyring.delete_password("nbplayground", "openai_api_key")
    assert source() == ("env:OPENAI_API_KEY", fingerprint(ENV))
    monkeypatch.delenv("OPENAI_API_KEY")
    assert source() == (f"file:{key_file(tmp_path)}", fingerprint(FILE))
    key_file(tmp_path).unlink()
    with pytest.raises(MissingApiKey, match="no API key found"):  # at once, nothing sent
        source()
    assert source(base_url="http://127.0.0.1:9/v1") == (None, None)  # a server may need none


def test_an_endpoints_key_is_the_argument(make_pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV)
    pg = make_pg(provider=Endpoint(base_url="http://127.0.0.1:9/v1", api_key=ARG))
    assert pg.whoami()["key_source"] == "argument"


@pytest.mark.parametrize("backend", [fail.Keyring(), chainer.ChainerBackend()])
def test_a_keyring_with_no_backend_is_skipped(backend: Any, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from nbplayground.adapters.keyring_secrets import KeyringSecretStore

    # A chainer with nothing to chain is what keyring picks on a machine without a keyring.
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    before = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        store = KeyringSecretStore()
        assert not store.available() and store.get() is None
        monkeypatch.setenv("OPENAI_API_KEY", ENV)
        got = KeyResolver([store, EnvSecret()]).resolve()
        assert got is not None and got.source == "env:OPENAI_API_KEY"
    finally:
        keyring.set_keyring(before)


def test_a_key_anywhere_makes_openai_the_default_provider(
        make_pg: Any, memory_keyring: MemoryKeyring, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nbplayground.facade_providers.local_available", lambda: False)
    assert make_pg().provider == "simulated"
    memory_keyring.set_password("nbplayground", "openai_api_key", RING)
    assert make_pg().provider == "openai"
    memory_keyring.delete_password("nbplayground", "openai_api_key")
    FileSecretStore(key_file(tmp_path)).set(FILE)
    assert make_pg().provider == "openai"


def test_set_key_file_is_0600_and_used_from_the_next_call(
        make_pg: Any, stub: OpenAIStub, tmp_path: Path) -> None:
    pg = make_pg(user="alice", provider="openai", api_key="sk-old-key-99999999",
                 base_url=stub.base_url)
    assert pg.run("hi", max_tokens=3).error_type == "AuthenticationFailed"
    said = pg.set_key(TEST_KEY, store="file")
    assert said == f"stored key {fingerprint(TEST_KEY)} in file:{key_file(tmp_path)}"
    assert key_file(tmp_path).stat().st_mode & 0o777 == 0o600
    assert key_file(tmp_path).parent.stat().st_mode & 0o777 == 0o700
    assert pg.run("hi", max_tokens=3).ok
    assert pg.whoami()["key_source"] == f"file:{key_file(tmp_path)}"


def test_set_key_keyring(make_pg: Any, memory_keyring: MemoryKeyring) -> None:
    pg = make_pg(user="alice", provider="simulated")
    assert pg.set_key(RING, store="keyring") == f"stored key {fingerprint(RING)} in keyring"
    assert memory_keyring.secrets == {("nbplayground", "openai_api_key"): RING}
    assert pg.whoami()["key_source"] == "keyring"


def test_set_key_without_a_keyring_says_use_a_file(make_pg: Any) -> None:
    with pytest.raises(ConfigurationError, match="store='file'"):
        make_pg(provider="simulated").set_key(RING, store="keyring")


@pytest.mark.parametrize(("key", "store"), [("", "file"), ("sk-has space-123", "file"),
                                            ("sk-line\nbreak-1", "file"), (42, "file"),
                                            (RING, "vault")])
def test_set_key_refuses_bad_input_without_quoting_it(make_pg: Any, key: Any, store: str
                                                      ) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_pg(provider="simulated").set_key(key, store=store)  # type: ignore[arg-type]
    assert not isinstance(key, str) or not key or key not in str(caught.value)


def test_login_checks_the_key_against_the_models_list(make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(user="alice", provider="openai", api_key=TEST_KEY, base_url=stub.base_url)
    assert pg.login() == {"user": "alice", "endpoint": stub.base_url, "key_source": "argument",
                          "key_fingerprint": fingerprint(TEST_KEY), "models": 5}
    assert stub.count("/v1/models") == 1


def test_login_says_clearly_when_the_key_is_refused(make_pg: Any, stub: OpenAIStub,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-0123456789")
    pg = make_pg(provider="openai", base_url=stub.base_url)
    with pytest.raises(AuthenticationFailed) as caught:
        pg.login()
    assert str(caught.value) == (
        f"{stub.base_url} refused the API key {fingerprint('sk-wrong-0123456789')} from "
        "env:OPENAI_API_KEY (401); store a valid key with pg.set_key(...) or fix its source")
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_login_without_any_key(make_pg: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"no API key found.*keyring.*OPENAI_API_KEY"):
        make_pg(provider="openai").login()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, make_pg: Any) -> None:
    path = key_file(tmp_path)
    FileSecretStore(path).set(FILE)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600") as caught:
        make_pg(provider="openai").whoami()
    assert FILE[:8] not in str(caught.value)


def test_api_key_never_prints_or_pickles() -> None:
    key = ApiKey(ARG, "argument")
    assert ARG not in repr(key) and ARG not in str(key) and ARG not in f"{key}"
    assert key.reveal() == ARG and key == ApiKey(ARG, "argument")
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)
    assert not hasattr(key, "__dict__")
