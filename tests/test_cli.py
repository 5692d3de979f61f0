import json

import pytest
from typer.testing import CliRunner

from supportbot import cli
from supportbot.services import accounts

runner = CliRunner()


def run(capsys, *args):
    """Run the `supportbot` entry point; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def test_help_lists_the_commands(capsys):
    code, output, _ = run(capsys, "--help")
    assert code == 0
    for command in ("create-user", "migrate", "demo-data", "import-kb", "set-role"):
        assert command in output


def test_create_user_with_role(database, session, capsys):
    code, output, _ = run(capsys, "create-user", "--username", "root", "--email", "root@example.org",
                       "--role", "admin", "--password", "correct horse battery staple")
    assert code == 0, output
    assert "Created admin 'root'" in output
    assert accounts.find_user(session, "root").role == "admin"


def test_create_user_prompts_for_the_password(database, session):
    result = runner.invoke(cli.app, ["create-user", "--username", "bob", "--email",
                                     "bob@example.org"],
                           input="correct horse battery staple\ncorrect horse battery staple\n")
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(session, "bob", "correct horse battery staple")


def test_bad_input_is_a_clear_error_with_exit_code(database, capsys):
    code, _, err = run(capsys, "create-user", "--username", "bob", "--email", "bob@example.org",
                       "--password", "short")
    assert code == 1
    assert "Error: Password must be at least 10 characters" in err
    assert "Traceback" not in err


def test_import_kb_reports_counts_and_names_bad_lines(database, tmp_path, capsys):
    kb = tmp_path / "kb.jsonl"
    kb.write_text(json.dumps({"id": "x1", "title": "Printer", "solution": "Reboot it"}) + "\n")
    code, output, _ = run(capsys, "import-kb", str(kb))
    assert code == 0 and "1 created" in output
    kb.write_text("{broken\n")
    code, _, err = run(capsys, "import-kb", str(kb))
    assert code == 1
    assert f"{kb}:1: not valid JSON" in err


def test_invalid_configuration_stops_with_exit_code_2(settings_env, capsys):
    settings_env(ACCESS_TOKEN_MINUTES="never")
    code, _, err = run(capsys, "check-config")
    assert code == 2
    assert "ACCESS_TOKEN_MINUTES" in err


def test_check_config_hides_secrets(database, capsys):
    code, output, _ = run(capsys, "check-config")
    assert code == 0
    assert "SECRET_KEY=***" in output and "test-secret-key" not in output


def test_reindex_then_search_answers_or_hands_over(database, settings_env, tmp_path, capsys,
                                                   embedder):
    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    kb = json.dumps({"id": "p1", "title": "Printer shows offline", "lang": "en",
                     "problem": "The office printer appears as offline.",
                     "solution": "1. Restart the printer.\n2. Re-add it.",
                     "examples": ["printer offline", "cannot print"]})
    (tmp_path / "kb.jsonl").write_text(kb + "\n")
    code, output, _ = run(capsys, "import-kb", str(tmp_path / "kb.jsonl"))
    assert code == 0 and "Index: finished." in output  # searchable without a reindex
    code, output, _ = run(capsys, "search", "my printer is offline", "--json")
    assert code == 0 and json.loads(output)["hits"][0]["title"] == "Printer shows offline"
    code, output, _ = run(capsys, "import-kb", str(tmp_path / "kb.jsonl"))
    assert code == 0 and "1 unchanged" in output and "Index" not in output  # nothing to do
    code, output, _ = run(capsys, "reindex")
    assert code == 0 and "1 articles" in output
    code, output, _ = run(capsys, "search", "my printer is offline", "--json")
    found = json.loads(output)
    assert code == 0 and found["would_answer"] is True
    assert found["hits"][0]["title"] == "Printer shows offline"
    code, output, _ = run(capsys, "search", "what is the capital of peru", "--json")
    assert json.loads(output)["would_answer"] is False


def test_search_without_an_index_is_a_clear_error(database, settings_env, tmp_path, capsys,
                                                  embedder):
    settings_env(FAISS_INDEX_PATH=str(tmp_path / "empty"))
    code, _, err = run(capsys, "search", "vpn")
    assert code == 1 and "no index" in err and "supportbot reindex" in err


@pytest.fixture
def indexed_kb(database, settings_env, tmp_path, capsys, embedder):
    from tests.ai.conftest import KB_SMALL

    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    assert run(capsys, "import-kb", str(KB_SMALL))[0] == 0
    assert run(capsys, "reindex")[0] == 0


def ask(capsys, *args):
    code, output, err = run(capsys, "ask", *args, "--json")
    assert code == 0, err
    return json.loads(output)


ASK_KEYS = {"session_id", "answer", "citations", "confidence", "escalated", "reason",
            "ticket_id", "language", "generated", "latency_ms"}


def test_ask_answers_with_a_citation_in_both_languages(indexed_kb, capsys):
    english = ask(capsys, "my vpn keeps failing")
    assert set(english) == ASK_KEYS
    assert english["citations"][0]["title"] == "VPN won't connect" and not english["escalated"]
    assert english["language"] == "en" and english["generated"] is False
    spanish = ask(capsys, "la impresora de la oficina no imprime nada")
    assert spanish["language"] == "es" and spanish["answer"].startswith("Esto debería")
    assert spanish["citations"] and spanish["ticket_id"] is None


def test_ask_escalates_with_reason_codes_and_tickets(indexed_kb, capsys, session):
    person = ask(capsys, "quiero hablar con una persona")
    assert (person["escalated"], person["reason"]) == (True, "user_request")
    urgent = ask(capsys, "URGENTE: el servidor no funciona")
    assert urgent["reason"] == "keyword" and urgent["ticket_id"].startswith("SB-")
    assert urgent["ticket_id"] != person["ticket_id"]
    again = ask(capsys, "¿hay alguien?", "--session", urgent["session_id"])
    assert again["answer"] is None and again["ticket_id"] == urgent["ticket_id"]


def test_ask_refuses_bad_input(indexed_kb, capsys):
    code, _, err = run(capsys, "ask", "hola", "--lang", "fr")
    assert code == 2 and "es or en" in err
    code, _, err = run(capsys, "ask", "hola", "--session", "no-such-session")
    assert code == 1 and "No such conversation" in err
    code, _, err = run(capsys, "ask", "   ")
    assert code == 1 and "Write a message first" in err


def test_generator_bench_reports_its_figures(capsys, settings_env, embedder):
    settings_env(GENERATOR_MODEL_NAME="smollm2")
    code, output, err = run(capsys, "generator-bench", "--questions", "2", "--json")
    assert code == 0, err
    row = json.loads(output)
    assert row["questions"] == 2 and row["rss_with_generator_mb"] >= row["rss_without_generator_mb"]
    assert row["tokens_per_s"] > 0 and 0 <= row["grounded_when_faithful"] <= 1
    settings_env(GENERATOR_MODEL_NAME="none")
    code, _, err = run(capsys, "generator-bench")
    assert code == 2 and "nothing to measure" in err


def test_eval_on_a_dev_set_made_from_the_kb_file_itself(capsys):
    import json

    from supportbot.ai.records import read_articles
    from tests.ai.conftest import KB_SMALL

    articles = read_articles(KB_SMALL)
    phrasings = sum(len(article.examples) for article in articles)
    problems = sum(1 for article in articles if article.problem)
    code, output, _ = run(capsys, "eval", "--kb", str(KB_SMALL), "--holdout", "phrasings",
                          "--json")
    assert code == 0
    figures = json.loads(output)
    assert figures["n_answerable"] == phrasings and figures["n_no_answer"] == 0
    assert figures["recall_at_1"] > 0.5
    code, output, _ = run(capsys, "eval", "--kb", str(KB_SMALL), "--holdout", "problem",
                          "--json")
    assert code == 0 and json.loads(output)["n_answerable"] == phrasings + problems
    code, _, error = run(capsys, "eval", "--kb", str(KB_SMALL))
    assert code != 0 and "--queries or --holdout" in error


def test_import_kb_says_when_the_index_could_not_follow(database, settings_env, tmp_path,
                                                        capsys, monkeypatch):
    from supportbot.jobs import reindex

    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))

    def broken(**_options):
        raise OSError("No space left on device")

    monkeypatch.setattr(reindex, "rebuild_index", broken)
    (tmp_path / "kb.jsonl").write_text(json.dumps(
        {"id": "n1", "title": "Network drive missing", "solution": "Map it again."}) + "\n")
    code, output, err = run(capsys, "import-kb", str(tmp_path / "kb.jsonl"))
    assert code == 1 and "1 created" in output  # the articles are kept
    assert "No space left on device" in err and "supportbot reindex" in err
