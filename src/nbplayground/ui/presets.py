"""Named panel configurations (model, messages, parameters), kept as JSON in the config dir."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nbplayground.errors import InvalidInput

PRESET_KEYS = ("model", "provider", "system", "messages", "prompt", "params")


def config_dir() -> Path:
    """$NBPLAYGROUND_CONFIG_DIR, else the platform's user config dir for nbplayground."""
    given = os.environ.get("NBPLAYGROUND_CONFIG_DIR")
    if given:
        return Path(given)
    import platformdirs

    return Path(platformdirs.user_config_dir("nbplayground"))


class PresetStore:
    """`presets.json`: {name: configuration}. Read on every call, so two panels agree."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "presets.json"

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise InvalidInput(f"cannot read the presets file {self.path}: {e}") from None
        return {str(k): v for k, v in data.items() if isinstance(v, dict)} \
            if isinstance(data, dict) else {}

    def _write(self, presets: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a crash mid-write never leaves half a file behind.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".presets-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(presets, f, indent=2, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def names(self) -> list[str]:
        return sorted(self._read(), key=str.casefold)

    def save(self, name: str, config: dict[str, Any]) -> str:
        name = check_name(name)
        presets = self._read()
        presets[name] = {k: config[k] for k in PRESET_KEYS if k in config}
        self._write(presets)
        return name

    def load(self, name: str) -> dict[str, Any]:
        presets = self._read()
        if name not in presets:
            raise InvalidInput(f"there is no preset named {name!r}")
        return {k: v for k, v in presets[name].items() if k in PRESET_KEYS}

    def delete(self, name: str) -> None:
        presets = self._read()
        if presets.pop(name, None) is not None:
            self._write(presets)


def saved_names(store: PresetStore) -> list[str]:
    """The presets' names, or none when the file cannot be read (the panel still opens)."""
    try:
        return store.names()
    except InvalidInput:
        return []


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("give the preset a name")
    clean = str(name).strip()
    if len(clean) > 80 or any(not c.isprintable() for c in clean):
        raise InvalidInput("a preset name is up to 80 printable characters")
    return clean


def preset_action(store: PresetStore, verb: str, name: Any, config: dict[str, Any]
                  ) -> tuple[dict[str, Any], str]:
    """(the panel's new values, what to say) for saving, loading or deleting a preset."""
    if verb == "save":
        saved = store.save(name, config)
        return {"presets": store.names()}, f"Saved preset “{saved}”"
    name = str(name or "")
    if verb == "load":
        from nbplayground.ui import state

        loaded = store.load(name)
        params = {**state.DEFAULT_PARAMS, **(loaded.pop("params", None) or {})}
        return {**loaded, "params": params}, f"Loaded preset “{name}”"
    store.delete(name)
    return {"presets": store.names()}, f"Deleted preset “{name}”"
