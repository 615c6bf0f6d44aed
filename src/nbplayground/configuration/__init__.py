"""Model Configuration context: which models exist, what each accepts, and validated parameters."""

from nbplayground.configuration.catalog import CATALOG, ModelSpec, lookup
from nbplayground.configuration.endpoint import Endpoint
from nbplayground.configuration.validation import DEFAULTS, resolve_parameters

__all__ = ["CATALOG", "DEFAULTS", "Endpoint", "ModelSpec", "lookup", "resolve_parameters"]
