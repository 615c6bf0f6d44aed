"""The constructor's arguments, checked before anything is opened or sent."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from nbplayground.configuration import Endpoint
from nbplayground.domain.providers import NAMES
from nbplayground.errors import LogNotWritable


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    db: Path | str  # a postgresql:// URL stays text
    user: str
    provider: str | Endpoint | None = None
    base_url: str | None = None
    simulated_latency: float = 0.01

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        if not v.strip() or "\x00" in v:
            raise ValueError("user must be a non-empty name")
        return v.strip()

    @field_validator("provider")
    @classmethod
    def _provider(cls, v: str | Endpoint | None) -> str | Endpoint | None:
        if isinstance(v, str) and v not in NAMES:
            raise ValueError(f"provider must be one of {', '.join(NAMES)}, an Endpoint, "
                             f"or None, not {v!r}")
        return v

    def base_url_for_openai(self) -> str | None:
        """The Endpoint's, else base_url=, else $OPENAI_BASE_URL; None is OpenAI's public API."""
        ep = self.provider if isinstance(self.provider, Endpoint) else None
        return (ep.base_url if ep else None) or self.base_url or \
            os.environ.get("OPENAI_BASE_URL") or None


    def compatible_server(self) -> bool:
        """An OpenAI-compatible server that is not OpenAI's own API (llama.cpp, vLLM, ...)."""
        base = self.base_url_for_openai()
        return bool(base) and "://api.openai.com" not in str(base)


def check_log_path(where: Path | str) -> None:
    """Refuse a log that could never be written now rather than at the first run: a folder, a
    folder that does not exist and cannot be made (one that can is made), a read-only file,
    folder or file system. A team log (a URL) is checked by its server."""
    if isinstance(where, str):
        return
    if "\x00" in str(where):
        raise LogNotWritable("the experiment log's path contains a NUL character; pass a file "
                             "path such as 'experiments.duckdb'")
    path = where.expanduser().absolute()
    if path.is_dir():
        raise LogNotWritable(f"the experiment log {path} is a folder; pass a file path such as "
                             f"{path / 'experiments.duckdb'}")
    parent = path.parent
    if not parent.is_dir():
        existing = next((p for p in parent.parents if p.exists()), None)
        if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise LogNotWritable(f"the folder {parent} of the experiment log does not exist and "
                                 f"cannot be created ({existing} is not writable); pass "
                                 "another path")
        try:  # the path names where the user wants the log: make its folder
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LogNotWritable(f"the folder {parent} of the experiment log does not exist and "
                                 f"cannot be created ({e.strerror}); pass another path") from None
    if path.exists():
        if not path.is_file():
            raise LogNotWritable(f"the experiment log {path} is not a file; pass a file path")
        if os.access(path, os.W_OK) and path.stat().st_mode & 0o222:
            return
        where = "the file"
    elif os.access(parent, os.W_OK | os.X_OK):
        return
    else:
        where = f"its folder {parent}"
    hint = ("the file system is mounted read-only; pass a path on a writable disk"
            if _read_only_mount(parent) else
            f"make {where} writable or pass another path")
    raise LogNotWritable(f"the experiment log {path} cannot be written ({where} is read-only); "
                         f"{hint}")


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
