"""Model Configuration context: which models exist, what each accepts, and validated parameters."""

from nbplayground.configuration.catalog import CATALOG, DEFAULT_MODEL, ModelSpec, lookup
from nbplayground.configuration.endpoint import Endpoint
from nbplayground.configuration.validation import DEFAULTS, require_known, resolve_parameters

__all__ = ["CATALOG", "DEFAULTS", "DEFAULT_MODEL", "Endpoint", "ModelSpec", "lookup",
           "require_known", "resolve_parameters"]
