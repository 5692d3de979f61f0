"""One error shape for every API response that is not a success:

    {"error": {"status": 422, "code": "invalid_input", "message": "...", "fields": {...}}}

An outage of the database or Redis (a restart, a dropped connection) is 503
`unavailable` with `Retry-After`, in that shape: the client retries; nothing is silently
dropped (docs/reliability.md, "Faults").
"""

from __future__ import annotations

import logging

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from supportbot.errors import ServiceError, Unavailable

log = logging.getLogger(__name__)

UNREADABLE_BODY = "There was an error parsing the body"  # FastAPI's HTTPException detail
_HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "permission_denied",
               404: "not_found", 405: "method_not_allowed", 409: "conflict",
               413: "too_large", 422: "invalid_input", 429: "rate_limited"}
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = Unavailable("The service is briefly unavailable; try again in a few seconds.")


def outage_kinds() -> tuple[type[BaseException], ...]:
    """Errors meaning the database or Redis cannot be reached now: a refused or dropped
    connection, a server shutting down, a full pool, a frozen Redis."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (Unavailable, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.TimeoutError, RedisConnectionError, RedisTimeoutError)


def error_response(status: int, code: str, message: str,
                   fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"status": status, "code": code, "message": message,
                      "fields": fields or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ServiceError)
    async def _service_error(_request: Request, error: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        if error.status == 503:
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return error_response(error.status, error.code, error.message, error.fields, headers)

    async def _outage(request: Request, error: Exception) -> JSONResponse:
        # The class only: statement parameters stay out of logs (db.build_engine).
        log.warning("%s: 503, %s", request.url.path, type(error).__name__)
        return await _service_error(request, UNAVAILABLE)

    for kind in outage_kinds():
        if issubclass(kind, ServiceError):  # Unavailable: handled above
            continue
        api.add_exception_handler(kind, _outage)

    @api.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        fields: dict[str, str] = {}
        for item in error.errors():
            location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query")]
            fields[".".join(location) or "body"] = item.get("msg", "invalid")
        return error_response(422, "invalid_input", "Some fields are not valid.", fields)

    @api.exception_handler(HTTPException)
    async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == UNREADABLE_BODY:
            # FastAPI answers a body that is not text (not UTF-8) with 400, but a body
            # that is text and not JSON with 422: both are invalid input, one status.
            return error_response(422, "invalid_input", "The request body is not valid JSON.",
                                  {"body": "Not valid JSON text (UTF-8)."})
        code = _HTTP_CODES.get(error.status_code, "error")
        message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        return error_response(error.status_code, code, message, headers=error.headers)
