"""nginx never writes a token to its access log: the chat WebSocket's `?access_token=`
(the one place a token travels in an address) is logged without the query string."""

import re
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "docker" / "nginx" / "supportbot.conf"


def test_the_websocket_is_logged_without_its_query_string():
    conf = CONF.read_text()
    formats = dict(re.findall(r"log_format (\w+) ((?:'[^']*'\s*)+);", conf))
    blocks = dict(re.findall(r"location ([^{]+?) \{(.*?)\n    \}", conf, re.S))
    used = re.search(r"access_log \S+ (\w+);", blocks["/ws/"])
    assert used, "the /ws/ location names its own log format"
    fields = formats[used.group(1)]
    assert "$uri" in fields
    for leaky in ("$request ", "$request\"", "$request_uri", "$args", "$query_string",
                  "$arg_"):
        assert leaky not in fields, leaky
