import yaml

from supportbot import cli
from supportbot.api.spec import SPEC_PATH, openapi_yaml

ENDPOINTS = {
    ("post", "/api/tickets/"), ("get", "/api/tickets/"), ("get", "/api/tickets/{ticket_id}/"),
    ("patch", "/api/tickets/{ticket_id}/"), ("post", "/api/tickets/{ticket_id}/messages/"),
    ("post", "/api/tickets/{ticket_id}/close/"),
    ("post", "/api/chat/session/"), ("post", "/api/chat/message/"),
    ("get", "/api/chat/conversations/{session_id}/"), ("post", "/api/chat/feedback/"),
    ("get", "/api/kb/"), ("post", "/api/kb/"), ("get", "/api/kb/{article_id}/"),
    ("put", "/api/kb/{article_id}/"), ("delete", "/api/kb/{article_id}/"),
    ("post", "/api/kb/reindex/"), ("get", "/api/kb/reindex/{job_id}/"),
    ("get", "/api/admin/users/"), ("post", "/api/admin/escalate/"),
    ("get", "/api/admin/metrics/"),
    ("post", "/api/auth/register/"), ("post", "/api/auth/login/"),
    ("post", "/api/auth/token/refresh/"), ("get", "/api/auth/me/"),
}


def test_the_committed_spec_is_the_apps():
    assert SPEC_PATH.read_text(encoding="utf-8") == openapi_yaml(), (
        "docs/api-spec.yaml is stale: run `supportbot api-spec` and commit it")


def test_the_spec_is_openapi_3_with_every_endpoint_and_the_error_shape():
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.")
    listed = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert ENDPOINTS <= listed
    tickets = spec["paths"]["/api/tickets/{ticket_id}/"]["patch"]["responses"]
    for status in ("401", "403", "404", "422", "429"):
        schema = tickets[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}


def test_api_spec_command_writes_and_checks(tmp_path, capsys):
    target = tmp_path / "spec.yaml"

    def run(*args):
        try:
            cli.main(["api-spec", "--output", str(target), *args])
        except SystemExit as done:
            return done.code or 0
        return 0

    assert run("--check") == 1  # missing
    assert run() == 0 and target.read_text(encoding="utf-8") == openapi_yaml()
    assert run("--check") == 0
    target.write_text(target.read_text(encoding="utf-8").replace("SupportBot API", "Other"))
    assert run("--check") == 1
    assert "stale" in capsys.readouterr().err
