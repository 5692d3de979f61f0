"""The service layer's error type. Callers (REST, Reflex, CLI) turn it into a message.

Each error has a stable `code` (for API clients), a human `message` (safe to show:
no stack traces, no hints whether an account exists) and optional per-field messages.
"""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidInput(ServiceError):
    code = "invalid_input"
    status = 422


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class DuplicateMessage(Conflict):
    """A chat message sent again with its client id while its first send is still being
    answered: nothing new is stored; the same request a little later gets the answer."""

    code = "duplicate_message"


class ClientIdReused(Conflict):
    """A chat message's client id that already names another message (another text), or
    a message that can no longer be answered: a new message needs a new id."""

    code = "client_id_reused"


class NotAuthenticated(ServiceError):
    code = "not_authenticated"
    status = 401


class PermissionDenied(ServiceError):
    code = "permission_denied"
    status = 403


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Unavailable(ServiceError):
    """A server the app depends on (the database, Redis) is unreachable for now; the
    same request may succeed in a few seconds."""

    code = "unavailable"
    status = 503


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class SessionExpired(NotAuthenticated):
    code = "session_expired"


class AccountDeactivated(NotAuthenticated):
    code = "account_deactivated"
