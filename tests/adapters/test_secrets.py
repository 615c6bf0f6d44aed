"""Secret stores: the 0600 key file and the OS keyring (an in-memory backend here)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from nbplayground.adapters.file_secrets import FileSecretStore
from nbplayground.adapters.keyring_secrets import KeyringSecretStore
from nbplayground.errors import ConfigurationError
from tests.accounts.conftest import MemoryKeyring, memory_keyring

__all__ = ["memory_keyring"]  # the fixture, shared with tests/accounts

KEY = "sk-file-test-0123456789abcdef"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_file_is_0600_in_a_0700_folder_even_with_a_lax_umask(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config" / "openai_key"
    old = os.umask(0o000)
    try:
        FileSecretStore(path).set(KEY)
    finally:
        os.umask(old)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert path.read_text() == KEY + "\n"
    assert FileSecretStore(path).get() == KEY
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_replacing_the_key_keeps_0600(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path / "openai_key")
    store.set(KEY)
    store.set("sk-second-key-9876543210")
    assert store.get() == "sk-second-key-9876543210" and mode(store.path) == 0o600


def test_concurrent_writers_leave_one_whole_key(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path / "openai_key")
    keys = [f"sk-writer-{i:02d}-{'x' * 30}" for i in range(8)]
    threads = [threading.Thread(target=FileSecretStore(store.path).set, args=(k,))
               for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get() in keys


def test_missing_or_empty_file_means_no_key(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path / "openai_key")
    assert store.get() is None
    store.set(" ")
    assert store.get() is None


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o666])
def test_a_file_others_can_read_is_refused_with_the_fix(tmp_path: Path, bits: int) -> None:
    store = FileSecretStore(tmp_path / "openai_key")
    store.set(KEY)
    store.path.chmod(bits)
    with pytest.raises(ConfigurationError, match=f"mode {bits:04o}.*chmod 600") as caught:
        store.get()
    assert KEY[:8] not in str(caught.value)


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ConfigurationError, match="cannot write the key file"):
        FileSecretStore(blocker / "openai_key").set(KEY)


def test_keyring_store_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = KeyringSecretStore()
    assert store.available() and store.get() is None
    store.set(KEY)
    assert memory_keyring.secrets == {("nbplayground", "openai_api_key"): KEY}
    assert store.get() == KEY
    assert KEY not in repr(store)


def test_a_failing_keyring_read_falls_through(memory_keyring: MemoryKeyring,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.errors

    def locked(service: str, username: str) -> str:
        raise keyring.errors.KeyringLocked("locked")

    monkeypatch.setattr(memory_keyring, "get_password", locked)
    assert KeyringSecretStore().get() is None


def test_a_refused_keyring_write_suggests_the_file(memory_keyring: MemoryKeyring,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.errors

    def refuse(service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("no")

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    with pytest.raises(ConfigurationError, match="store='file'"):
        KeyringSecretStore().set(KEY)
