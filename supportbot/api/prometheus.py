"""`GET /metrics`: the Prometheus text format (services.telemetry), for scrapers.

Not part of the REST API under /api/ (no JSON, not in the OpenAPI description). With
METRICS_TOKEN set, scrapers send `Authorization: Bearer <METRICS_TOKEN>`; otherwise it is
open, so keep the port off the public network or set the token.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response

from supportbot.api.errors import error_response
from supportbot.config import get_settings
from supportbot.services import telemetry

router = APIRouter()


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(),
                                                                 token.encode())


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    token = get_settings().metrics_token
    if token and not _authorized(request, token):
        return error_response(401, "not_authenticated", "Send the metrics token.",
                              headers={"WWW-Authenticate": "Bearer"})
    body, content_type = telemetry.render()
    return Response(body, media_type=content_type)
