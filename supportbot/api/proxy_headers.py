"""The client's address and scheme behind a reverse proxy (nginx), for TRUSTED_PROXIES.

Behind nginx every request comes from nginx's address: the per-IP rate limits would
count every visitor as one. When the direct peer is a trusted proxy, the client is the
right-most address of `X-Forwarded-For` that is not itself a trusted proxy, and the
scheme is `X-Forwarded-Proto`. Requests from anyone else keep their own address, so a
client cannot pick its rate-limit key by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """CIDRs or single addresses ("172.16.0.0/12", "127.0.0.1"); ValueError if invalid."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str, networks: list[Network]) -> str:
    """Who sent the request, given the peer address and the X-Forwarded-For value."""
    if not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


class ProxyHeadersMiddleware:
    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and _trusted(client[0],
                                                                           self.networks):
            headers = dict(scope.get("headers", []))
            forwarded_for = headers.get(b"x-forwarded-for", b"").decode("latin-1")
            proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
            scope = dict(scope)
            if forwarded_for:
                scope["client"] = (forwarded_client(client[0], forwarded_for, self.networks),
                                   client[1])
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else (
                    "wss" if proto == "https" else "ws")
        await self.app(scope, receive, send)
