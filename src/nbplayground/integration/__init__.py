"""API Integration: code in Python, JavaScript and curl that reproduces an experiment exactly."""

from nbplayground.integration.api_service import LANGUAGES, APIService, Language

__all__ = ["LANGUAGES", "APIService", "Language"]
