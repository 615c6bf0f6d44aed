"""Who is running and what the config says: the user's name, config directory, admins, plan."""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Any

from nbplayground.errors import ConfigurationError

CONFIG_FILE = "config.toml"
"""In the config directory: `admins = ["alice"]`, `default_plan = "pro"`."""


def current_user(explicit: str | None = None) -> str:
    """The `user=` argument, else $JUPYTERHUB_USER (a shared hub), else the OS user."""
    if explicit is not None:
        return explicit
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def config_dir() -> Path:
    """$NBPLAYGROUND_CONFIG_DIR, else the platform's user config directory for nbplayground."""
    given = os.environ.get("NBPLAYGROUND_CONFIG_DIR")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("nbplayground"))


def load_config(directory: Path | None = None) -> dict[str, Any]:
    path = (directory or config_dir()) / CONFIG_FILE
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigurationError(f"cannot read the nbplayground config {path}: {e}; fix or "
                                 "remove it") from None


def admins(config: dict[str, Any] | None = None) -> frozenset[str]:
    """Users with the admin role: $NBPLAYGROUND_ADMINS (comma-separated) and `admins` in the
    config file. Admins may read every user's history and usage."""
    names = {n.strip() for n in os.environ.get("NBPLAYGROUND_ADMINS", "").split(",")}
    listed = (load_config() if config is None else config).get("admins", [])
    if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
        raise ConfigurationError(f"`admins` in {config_dir() / CONFIG_FILE} must be a list of "
                                 "user names, e.g. admins = [\"alice\"]")
    return frozenset(n for n in names | {n.strip() for n in listed} if n)


def default_plan(config: dict[str, Any] | None = None) -> str | None:
    """The plan of a user the log has none for: $NBPLAYGROUND_PLAN, `default_plan` in the
    config file, else None: no plan, so no plan limits (the server's own rate limits apply)."""
    plan = os.environ.get("NBPLAYGROUND_PLAN") or \
        (load_config() if config is None else config).get("default_plan")
    return str(plan) if plan else None
