"""KeyringSecretStore: the API key in the OS keyring (macOS Keychain, Secret Service, Windows)."""

from __future__ import annotations

import logging

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail

from nbplayground.errors import ConfigurationError

log = logging.getLogger(__name__)

SERVICE = "nbplayground"
ACCOUNT = "openai_api_key"


def usable_backend() -> keyring.backend.KeyringBackend | None:
    """The active backend, or None when keyring has nowhere real to keep secrets."""
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring config must not stop key resolution
        log.debug("no keyring backend", exc_info=False)
        return None
    if isinstance(backend, fail.Keyring) or type(backend).__module__.endswith(".null"):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


class KeyringSecretStore:
    """Reads and writes one entry (service "nbplayground", account "openai_api_key")."""

    ref = "keyring"
    slow = True

    def __init__(self, service: str = SERVICE, account: str = ACCOUNT) -> None:
        self.service = service
        self.account = account

    def __repr__(self) -> str:
        return f"KeyringSecretStore({self.service!r}, {self.account!r})"

    def available(self) -> bool:
        return usable_backend() is not None

    def get(self) -> str | None:
        backend = usable_backend()
        if backend is None:
            return None
        try:
            value: str | None = backend.get_password(self.service, self.account)
        except keyring.errors.KeyringError as e:  # locked or unreachable: try the next source
            log.debug("keyring read failed: %s", type(e).__name__)
            return None
        return value

    def set(self, key: str) -> None:
        backend = usable_backend()
        if backend is None:
            raise ConfigurationError(
                "there is no usable OS keyring here (keyring found no backend); store the key "
                "in a file instead: pg.set_key(key, store='file')")
        try:
            backend.set_password(self.service, self.account, key)
        except keyring.errors.KeyringError as e:
            raise ConfigurationError(f"the OS keyring refused to store the key "
                                     f"({type(e).__name__}); try pg.set_key(key, store='file')"
                                     ) from None
