"""Schemathesis against the running API: no server error, and every response as
docs/api-spec.yaml describes it (status code, content type, body schema).

The fuzzed app is the FastAPI app the Reflex backend mounts (`create_api`), served by
granian on its own SQLite database with the demo data and its search index, its rate
limits raised through the settings (a fuzzer sends far more than a person would; the
limits themselves are tested in test_limits.py). Schemathesis runs once as an admin and
once as a user, each with a Bearer token, so it gets past 401 and 403.

Bounded: FUZZ_MAX_EXAMPLES cases per operation and phase (default 3: a few hundred
cases in all, well under a minute of fuzzing). FUZZ_COVERAGE=1 adds Schemathesis'
coverage phase (boundary and invalid values of every parameter: about 1,300 cases per
role, however many examples). The full run, 10,000+ cases:

    FUZZ_COVERAGE=1 FUZZ_MAX_EXAMPLES=150 FUZZ_SEED=random \
        .venv/bin/pytest -s tests/api/test_fuzz.py -k live

prints each role's summary (cases, failures, time). FUZZ_SEED picks the seed (default
fixed, so `make test` is repeatable; `random` for a new one each run). As in the rest
of the suite, the generator is off (GENERATOR_MODEL_NAME=none): a chat turn the fuzzer
starts answers from the index in milliseconds instead of generating for seconds.

The first tests are the regressions of what the fuzzer found: an undocumented status
code, and a response schema it could not use (so one operation went untested).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import assert_error
from tests.ui.conftest import DEMO_PASSWORDS, _app_env, _free_port

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))
PHASES = ("examples,coverage,fuzzing,stateful" if os.environ.get("FUZZ_COVERAGE") == "1"
          else "examples,fuzzing,stateful")
SEED = os.environ.get("FUZZ_SEED", "20261202")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


# -- what the fuzzer found -------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/auth/login/", "/api/chat/session/", "/api/kb/"])
def test_a_body_that_is_not_text_is_invalid_input(client, callers, path):
    """Bytes that are not UTF-8 under `Content-Type: application/json` got FastAPI's 400,
    which the spec does not list (text that is not JSON got 422)."""
    response = client.post(path, content=b"\x05\xe9)\xf0r", headers={
        **callers["admin"].headers, "Content-Type": "application/json"})
    body = assert_error(response, 422, "invalid_input")
    assert body["fields"] == {"body": "Not valid JSON text (UTF-8)."}
    assert_error(client.post(path, content=b"{not json", headers={
        **callers["admin"].headers, "Content-Type": "application/json"}), 422, "invalid_input")


def test_metrics_per_day_are_objects(client, callers):
    """`[day, count]` pairs were described with `prefixItems`, a schema the fuzzer's
    validator rejected so that the operation went untested; objects describe themselves."""
    figures = client.get("/api/admin/metrics/", headers=callers["admin"].headers).json()
    assert set(figures["conversations_per_day"][0]) == {"day", "conversations"}
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert "prefixItems" not in str(schema)


# -- the fuzz run ----------------------------------------------------------------------

# `supportbot migrate`, `demo-data` and `reindex`, in one process (one start-up, not three).
SET_UP = """
from supportbot import cli
for command in (["migrate"], ["demo-data"], ["reindex"]):
    try:
        cli.main(command)
    except SystemExit as done:
        if done.code:
            raise
"""

@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory):
    """Base URL of the API served by granian, and Bearer tokens of the demo admin and
    user."""
    workdir = tmp_path_factory.mktemp("fuzz")
    env = _app_env(f"sqlite:///{workdir / 'app.db'}", workdir / "data")
    env.update(RATE_LIMIT_DEFAULT="100000/minute", RATE_LIMIT_LOGIN="100000/minute",
               RATE_LIMIT_ANON_CHAT="100000/minute",
               ACCESS_TOKEN_MINUTES="600")  # a full run outlasts the default 15 minutes
    done = subprocess.run([sys.executable, "-c", SET_UP], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    port = _free_port()
    log_path = workdir / "granian.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-ws",
             "supportbot.api.app:create_api"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log_path.read_text()[-4000:]
            try:
                if httpx.get(f"{base}/api/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.5)
        tokens = {}
        for username in ("admin", "user"):
            login = httpx.post(f"{base}/api/auth/login/", json={
                "username": username, "password": DEMO_PASSWORDS[username]})
            assert login.status_code == 200, login.text
            tokens[username] = login.json()["access_token"]
        yield {"base": base, "tokens": tokens, "workdir": workdir, "log": log_path}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def schemathesis(api: dict, who: str) -> tuple[int, str, float]:
    """One `st run` as `who`; its exit code, output and duration in seconds."""
    command = [str(Path(sys.executable).parent / "st"), "run",
               f"{api['base']}/api/openapi.json", "--checks", CHECKS,
               "--max-examples", str(MAX_EXAMPLES), "--phases", PHASES, "--no-color",
               "--header", f"Authorization: Bearer {api['tokens'][who]}",
               "--request-timeout", "30"]
    if SEED != "random":
        command += ["--seed", SEED]
    started = time.monotonic()
    # Its working files (hypothesis' example database) stay in the run's folder.
    done = subprocess.run(command, cwd=api["workdir"], capture_output=True, text=True,
                          timeout=max(600, MAX_EXAMPLES * 60))
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def summary(output: str) -> str:
    """"N generated, N passed | N failures, N warnings in T s | seed S"."""
    cases = re.search(r"\d+ generated[^\n]*", output)
    seed = re.search(r"Seed: (\d+)", output)
    closing = output.strip().splitlines()[-1] if output.strip() else ""
    return (f"{cases.group(0) if cases else '?'} | {closing.strip('= ')} | "
            f"seed {seed.group(1) if seed else '?'}")


@pytest.mark.app
@pytest.mark.timeout(max(600, MAX_EXAMPLES * 60))  # a full run takes longer than most
@pytest.mark.parametrize("who", ["admin", "user"])
def test_the_live_api_survives_the_fuzzer(fuzzed_api, who):
    code, output, seconds = schemathesis(fuzzed_api, who)
    print(f"\nschemathesis as {who}, {MAX_EXAMPLES} examples per operation and phase "
          f"({PHASES}): {summary(output)} ({seconds:.0f} s)")
    server_errors = [line for line in fuzzed_api["log"].read_text().splitlines()
                     if "Traceback" in line or "Exception in ASGI" in line]
    assert code == 0 and not server_errors, output[-20000:]
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested.group(1)) >= 30, output[-3000:]  # every operation ran
