"""Behind nginx (TRUSTED_PROXIES): rate limits count per visitor, and only a trusted
proxy's X-Forwarded-For is believed."""

import pytest
from fastapi.testclient import TestClient

from supportbot.api.app import create_api
from supportbot.api.proxy_headers import forwarded_client, parse_networks
from supportbot.config import ConfigError, load_settings

NGINX = "172.18.0.5"


@pytest.fixture
def app_behind_nginx(database, settings_env):
    settings_env(TRUSTED_PROXIES="172.16.0.0/12,127.0.0.1", RATE_LIMIT_ANON_CHAT="2/minute")
    return create_api()


def _session(client, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/chat/session/", headers=headers).status_code


def test_visitors_behind_the_proxy_have_their_own_limits(app_behind_nginx):
    with TestClient(app_behind_nginx, client=(NGINX, 40000)) as nginx:
        assert [_session(nginx, "203.0.113.7") for _ in range(3)] == [201, 201, 429]
        assert _session(nginx, "198.51.100.1") == 201  # another visitor, same proxy
        # A visitor's own X-Forwarded-For comes first; nginx appends the real address.
        assert _session(nginx, "198.51.100.99, 203.0.113.7") == 429


def test_an_untrusted_peer_cannot_choose_its_address(app_behind_nginx):
    with TestClient(app_behind_nginx, client=("203.0.113.50", 40000)) as direct:
        assert [_session(direct, f"192.0.2.{n}") for n in range(3)] == [201, 201, 429]


def test_forwarded_client_skips_trusted_hops():
    networks = parse_networks(["10.0.0.0/8"])
    assert forwarded_client("10.0.0.2", "198.51.100.1, 10.0.0.9", networks) == "198.51.100.1"
    assert forwarded_client("192.0.2.1", "198.51.100.1", networks) == "192.0.2.1"
    assert forwarded_client("10.0.0.2", "", networks) == "10.0.0.2"


def test_a_malformed_proxy_range_stops_start_up():
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.0/33")
