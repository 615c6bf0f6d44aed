"""ModelParameters: the request fields of one request, as sent; its fields come from the table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, create_model

from nbplayground.domain.fields import FIELDS, PARAMETER_NAMES

__all__ = ["PARAMETER_NAMES", "ModelParameters"]


class _Parameters(BaseModel):
    """None means "not sent": a reasoning model gets no temperature at all, not a default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    if TYPE_CHECKING:  # the fields are generated from the table below
        def __getattr__(self, name: str) -> Any: ...

    def sent(self) -> dict[str, Any]:
        """The parameters that go on the wire, by their spec names (None ones left out)."""
        out = self.model_dump(exclude_none=True)
        for f in FIELDS:
            if f.name not in out:
                continue
            if not f.on_wire:
                del out[f.name]
            elif isinstance(out[f.name], tuple):
                out[f.name] = list(out[f.name])
        return out


_DEFINITIONS: dict[str, Any] = {f.name: (f.python_type | None, None) for f in FIELDS}
_Generated: Any = create_model("_Generated", __base__=_Parameters, **_DEFINITIONS)


class ModelParameters(_Generated):
    """The spec's ModelParameters value object (frozen; None = not sent)."""
