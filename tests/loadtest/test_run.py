"""The load test only runs against this machine, within its bounds."""

import pytest

from supportbot import cli
from supportbot.errors import InvalidInput
from supportbot.loadtest.run import LoadConfig, SourceAddresses, loopback_target


def test_loopback_urls_are_accepted():
    target = loopback_target("http://127.0.0.1:3000")
    assert (target.address, target.port, target.base_url) == ("127.0.0.1", 3000,
                                                              "http://127.0.0.1:3000")
    named = loopback_target("http://localhost:8080/")
    assert named.address.startswith("127.") and named.host_header == "localhost:8080"
    assert named.socket_url("/ws/chat/x/") == "ws://localhost:8080/ws/chat/x/"


@pytest.mark.parametrize("url", ["http://192.0.2.10:3000", "http://10.0.0.1",
                                 "https://[2001:db8::1]:443", "http://[::1]:3000",
                                 "ftp://127.0.0.1/", "http://127.0.0.1:3000/api/",
                                 "127.0.0.1:3000"])
def test_other_urls_are_refused(url):
    with pytest.raises(InvalidInput):
        loopback_target(url)


def test_the_command_refuses_another_machine_with_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["loadtest", "--url", "http://192.0.2.10:3000", "--sessions", "2"])
    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert "192.0.2.10 is not this machine" in error and "loopback" in error


@pytest.mark.parametrize("bounds", [{"sessions": 0}, {"sessions": 1001}, {"minutes": 0},
                                    {"minutes": 31}, {"think": (3.0, 1.0)}, {"ramp": -1},
                                    {"ramp": 1801}])
def test_runs_are_bounded(bounds):
    with pytest.raises(InvalidInput):
        LoadConfig(**bounds)


def test_each_visitor_and_agent_has_its_own_loopback_address():
    addresses = SourceAddresses()
    seen = {addresses.visitor(n) for n in range(1000)} | {addresses.agent(n) for n in range(50)}
    assert len(seen) == 1050 and all(a.startswith(f"127.{addresses.network}.") for a in seen)
    assert all(0 <= int(part) <= 255 for a in seen for part in a.split("."))
    assert "127.0.0.1" not in seen
    assert LoadConfig(sessions=41).agent_count == 3 and LoadConfig(sessions=5).agent_count == 1


def test_the_sessions_start_over_the_ramp_at_most_a_quarter_of_the_run():
    assert LoadConfig(minutes=2).ramp_seconds == 10
    assert LoadConfig(minutes=2, ramp=25).ramp_seconds == 25
    assert LoadConfig(minutes=1, ramp=25).ramp_seconds == 15
    assert LoadConfig(minutes=1, ramp=0).ramp_seconds == 0
