"""FileSecretStore: the API key in a file only its owner can read (mode 0600)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from nbplayground.errors import ConfigurationError

KEY_FILE = "openai_key"


class FileSecretStore:
    """A one-line key file, written atomically with mode 0600 in a 0700 directory."""

    slow = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.ref = f"file:{self.path}"

    def __repr__(self) -> str:
        return f"FileSecretStore({str(self.path)!r})"

    def get(self) -> str | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        if os.name == "posix" and st.st_mode & 0o077:
            raise ConfigurationError(
                f"the key file {self.path} can be read by other users (mode "
                f"{stat.S_IMODE(st.st_mode):04o}); restrict it with: chmod 600 {self.path}")
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigurationError(f"cannot read the key file {self.path}: "
                                     f"{type(e).__name__}") from None
        return text.strip() or None

    def set(self, key: str) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # mkstemp: a fresh name (O_EXCL) created 0600, so the key is never in a file
            # others could open, and concurrent writers never share a temporary file.
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                        dir=folder)
            tmp = Path(name)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    if hasattr(os, "fchmod"):
                        os.fchmod(f.fileno(), 0o600)
                    f.write(key + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
        except OSError as e:
            raise ConfigurationError(f"cannot write the key file {self.path}: {e.strerror}; "
                                     "check the folder's permissions") from None
