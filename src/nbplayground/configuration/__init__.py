"""Model Configuration context: which models exist, what each accepts, and validated parameters."""

from nbplayground.configuration.catalog import CATALOG, DEFAULT_MODEL, ModelSpec, lookup
from nbplayground.configuration.endpoint import Endpoint
from nbplayground.configuration.served import answered_model, listed_default
from nbplayground.configuration.validation import DEFAULTS, require_known, resolve_parameters

__all__ = ["CATALOG", "DEFAULTS", "DEFAULT_MODEL", "Endpoint", "ModelSpec", "answered_model",
           "listed_default", "lookup", "require_known", "resolve_parameters"]
