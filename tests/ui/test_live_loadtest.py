"""`supportbot loadtest` against the running app (`reflex run --env prod`): a small run,
8 sessions for about 20 s, half on the WebSocket and half on REST, with escalations and
an agent replying. Nothing lost or duplicated, no error, every escalation has its ticket,
every agent reply reached its visitor. (`supportbot loadtest --sessions 200 --minutes 2`
is the full run: docs/reliability.md.)"""

import json
import subprocess
import sys

import pytest

from tests.ui.conftest import LIVE, ROOT

pytestmark = pytest.mark.app


def test_a_small_load_run_loses_nothing(live_app):
    done = subprocess.run(
        [sys.executable, "-m", "supportbot", "loadtest", "--url", live_app, "--sessions", "8",
         "--minutes", "0.34", "--seed", "8", "--json", "--database-url",
         LIVE["database_url"]],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({key: summary[key] for key in ("counts", "errors", "storage")}, indent=1))
    assert done.returncode == 0 and summary["ok"], (summary["errors"], summary["storage"])
    counts, storage = summary["counts"], summary["storage"]
    assert counts["sessions"] == 8 and counts["user_messages"] >= 24
    assert counts["answers"] > 0 and counts["escalations"] > 0
    assert counts["agent_replies"] == counts["agent_replies_arrived"] == counts["escalations"]
    assert summary["errors"]["total"] == 0
    assert storage["lost"] == storage["duplicated"] == storage["unexpected"] == 0
    assert storage["tickets_missing"] == storage["tickets_unreported"] == 0
    assert storage["messages_checked"] == counts["messages_sent"]
    assert storage["escalations_checked"] == counts["escalations"]
    for path in ("ws", "rest"):  # both paths carried turns and agents' replies
        latency = summary["latency_ms"][path]
        assert latency["answer"]["n"] > 0 and latency["agent_reply_arrival"]["n"] > 0
