"""One error shape for every API response that is not a success:

    {"error": {"status": 422, "code": "invalid_input", "message": "...", "fields": {...}}}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from supportbot.errors import ServiceError

_HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "permission_denied",
               404: "not_found", 405: "method_not_allowed", 409: "conflict",
               413: "too_large", 422: "invalid_input", 429: "rate_limited"}


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
        return error_response(error.status, error.code, error.message, error.fields, headers)

    @api.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        fields: dict[str, str] = {}
        for item in error.errors():
            location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query")]
            fields[".".join(location) or "body"] = item.get("msg", "invalid")
        return error_response(422, "invalid_input", "Some fields are not valid.", fields)

    @api.exception_handler(HTTPException)
    async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "error")
        message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        return error_response(error.status_code, code, message, headers=error.headers)
