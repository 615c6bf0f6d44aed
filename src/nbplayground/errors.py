"""The one error tree: every failure a user can see is a subclass of NbPlaygroundError."""

from __future__ import annotations


class NbPlaygroundError(Exception):
    """Root of every error nbplayground raises on purpose; the message says what to change."""


class InvalidInput(NbPlaygroundError, ValueError):
    """An argument is of the wrong type or out of range; nothing was sent."""


class InvalidParameter(InvalidInput):
    """A model parameter is out of range or not accepted by the chosen model."""

    def __init__(self, message: str, *, parameter: str, value: object = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


class UnknownModel(InvalidInput):
    """The model is not offered by the chosen provider."""


class ContextWindowExceeded(InvalidInput):
    """The prompt plus max_tokens does not fit the model's context window."""


class InvalidPrompt(InvalidInput):
    """A prompt version's content is not valid (empty template, unknown request field)."""


class PromptNotFound(InvalidInput):
    """No saved prompt by that name or version; the message lists the ones that exist."""


class ConfigurationError(NbPlaygroundError):
    """The environment is not set up for what was asked (missing extra or key, bad provider)."""


class MissingApiKey(ConfigurationError):
    """provider="openai" against the public API with no key anywhere: found before sending."""


class BudgetExceeded(NbPlaygroundError):
    """A budget or max_cost would be crossed: nothing more is sent."""

    def __init__(self, message: str, *, spent: float = 0.0, limit: float = 0.0,
                 needed: float = 0.0) -> None:
        super().__init__(message)
        self.spent = spent
        self.limit = limit
        self.needed = needed


class ProviderError(NbPlaygroundError):
    """The model provider failed to answer; `retryable` says whether trying again may help."""

    retryable: bool = False

    def __init__(self, message: str, *, status_code: int | None = None,
                 retry_after: float | None = None, request_id: str | None = None,
                 partial_text: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after
        self.request_id = request_id
        self.partial_text = partial_text
        """What a cut stream delivered before it failed; logged with the error."""


class AuthenticationFailed(ProviderError):
    """The endpoint refused the API key (401) or the key lacks permission (403)."""


class ModelNotFound(ProviderError):
    """The endpoint does not serve that model (404)."""


class BadRequest(ProviderError):
    """The endpoint rejected the request as malformed (400/422)."""


class ApiNotSupported(BadRequest):
    """The endpoint has no such API (a 404 on /v1/responses, as llama.cpp answers): use
    api="chat"."""


class RateLimited(ProviderError):
    """429: too many requests or tokens; retried after the server's retry-after."""

    retryable = True


class ServerFailed(ProviderError):
    """5xx from the endpoint; retried with backoff."""

    retryable = True


class RequestTimedOut(ProviderError):
    """No answer in time; retried with backoff."""

    retryable = True


class ConnectionFailed(ProviderError):
    """The endpoint could not be reached or the stream was cut."""

    retryable = True


class MalformedResponse(ProviderError):
    """The endpoint answered with something that is not a chat completion."""


class StoreError(NbPlaygroundError):
    """The experiment log file cannot be opened or written."""


class LogNotWritable(StoreError):
    """The experiment log's path can never be written (a folder, a read-only place)."""


class StoreLocked(StoreError):
    """Another program holds the log file for longer than we wait."""


class SchemaTooNew(StoreError):
    """The log file was written by a newer nbplayground; it is left untouched."""


class TeamLogUnreachable(StoreError):
    """The team log's PostgreSQL server did not answer (host, port, network)."""


class TeamLogAccessDenied(StoreError):
    """The team log's server refused the login (wrong password, unknown role, no access)."""


class TeamLogNotSetUp(StoreError):
    """The database has no team log, or an older schema: its owner runs team init."""


class NotAuthorized(NbPlaygroundError):
    """The current user may not see what was asked (another user's rows)."""


class Cancelled(NbPlaygroundError):
    """The run was stopped by the user."""
