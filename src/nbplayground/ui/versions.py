"""The panel's prompt versions: what is on screen saved as a version of a named prompt, a
version loaded back, and runs from a loaded version tagged with it (pg.prompts is the store)."""

from __future__ import annotations

from typing import Any

from nbplayground.domain.parameters import PARAMETER_NAMES
from nbplayground.domain.prompts import PromptVersion
from nbplayground.errors import InvalidInput, NbPlaygroundError
from nbplayground.ui import state, turns
from nbplayground.ui.attachments import Attached, described
from nbplayground.ui.turns import saved_turns


def entries(prompts: Any) -> list[dict[str, Any]]:
    """Every saved version, newest prompt names first as pg.prompts.list() orders them."""
    listed = prompts.list()
    names = [str(n) for n in listed["name"]] if len(listed) else []
    return [{"name": v.name, "version": v.version, "label": f"{v.name} v{v.version}"}
            for name in names for v in reversed(prompts.versions(name))]


def listed(pg: Any) -> list[dict[str, Any]]:
    """entries(pg.prompts), or none when the log cannot say (the panel still opens)."""
    try:
        return entries(pg.prompts)
    except NbPlaygroundError:
        return []


def action(prompts: Any, verb: str, content: dict[str, Any], config: dict[str, Any]
           ) -> tuple[PromptVersion, dict[str, Any], list[Attached] | None, str]:
    """(the version now shown, the panel's new values, its attached images (None: as they
    are), what to say) for saving what is on screen as a version of content["name"], or
    loading content["name"] v content["version"]."""
    images: list[Attached] | None = None
    values: dict[str, Any] = {}
    if verb == "save":
        v = save(prompts, content.get("name"), config)
    else:
        v = load(prompts, content.get("name"), content.get("version"))
        values, images = on_screen(v, config["model"])
    said = "Saved" if verb == "save" else "Loaded"
    return v, {**values, "prompt_versions": entries(prompts)}, images, f"{said} {v.name} " \
        f"v{v.version}"


def save(prompts: Any, name: Any, config: dict[str, Any]) -> PromptVersion:
    """Save the prompt, system message, model and fields on screen as a version of `name`."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("give the prompt a name to save it as a version")
    _, kwargs = state.request(config)
    fields = {k: v for k, v in kwargs.items() if k in PARAMETER_NAMES}
    # Earlier turns or images make it a conversation; a lone prompt keeps the plain form.
    conversation = saved_turns(config) if config.get("messages") or config.get("images") \
        else None
    saved: PromptVersion = prompts.save(
        name.strip(), None if conversation else config["prompt"],
        system=kwargs.get("system"), model=kwargs["model"], messages=conversation, **fields)
    return saved


def load(prompts: Any, name: Any, version: Any) -> PromptVersion:
    if not isinstance(name, str) or not name:
        raise InvalidInput("pick a saved prompt version to load")
    found: PromptVersion = prompts.get(name, int(version) if version is not None else None)
    return found


def on_screen(v: PromptVersion, current_model: str
              ) -> tuple[dict[str, Any], list[Attached]]:
    """The panel's configuration showing version `v` (its turns, its fields over the
    defaults), and the images its last user turn attaches."""
    messages, prompt, images = turns.on_screen(v.messages) if v.messages else \
        ([], v.template, [])
    return {"prompt": prompt, "system": v.system or "", "messages": messages,
            "model": v.model or current_model, "params": {**state.DEFAULT_PARAMS, **v.params},
            "attachments": described(images)}, images


def still_shown(v: PromptVersion | None, config: dict[str, Any]) -> PromptVersion | None:
    """`v` when the screen still holds its content (so a run from it is tagged with it): the
    same turns (or template, with no earlier turns or images), system message and model, and
    no fields left to fill."""
    if v is None or v.fields:
        return None
    same = turns.same_turns(config, v.messages) if v.messages else (
        config["prompt"] == v.template and not config.get("messages")
        and not config.get("images"))
    same = same and (config["system"] or None) == v.system and (
        v.model is None or config["model"] == v.model)
    return v if same else None
