import json

import pytest

from supportbot import cli
from supportbot.ai.evaluation import evaluate_files, pick_threshold, run_queries
from supportbot.ai.queries import read_queries
from supportbot.ai.records import RecordError
from tests.ai.conftest import KB_SMALL, QUERIES_SMALL

KEYS = {"n_answerable", "n_no_answer", "recall_at_1", "recall_at_5", "mrr", "auroc",
        "threshold", "coverage", "answered_precision", "escalation_recall", "latency_ms_p50",
        "latency_ms_p95"}


def test_eval_json_has_exactly_the_contract_keys(capsys, embedder):
    with pytest.raises(SystemExit) as done:
        cli.main(["eval", "--kb", str(KB_SMALL), "--queries", str(QUERIES_SMALL), "--json",
                  "--threshold", "0.5"])
    assert done.value.code in (0, None)
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == KEYS | {"by_lang"}
    assert set(figures["by_lang"]) == {"en", "es"}
    for values in figures["by_lang"].values():
        assert set(values) == KEYS
    assert (figures["n_answerable"], figures["n_no_answer"]) == (20, 6)
    assert figures["by_lang"]["es"]["n_answerable"] == 10
    assert figures["recall_at_1"] >= 0.9 and figures["recall_at_5"] == 1.0
    assert figures["mrr"] >= figures["recall_at_1"]
    assert figures["auroc"] >= 0.9 and figures["threshold"] == 0.5
    assert figures["escalation_recall"] >= 0.8 and figures["answered_precision"] >= 0.9
    assert 0 < figures["latency_ms_p50"] <= figures["latency_ms_p95"]


def test_eval_split_and_table(capsys, embedder):
    with pytest.raises(SystemExit):
        cli.main(["eval", "--kb", str(KB_SMALL), "--queries", str(QUERIES_SMALL),
                  "--split", "dev"])
    table = capsys.readouterr().out
    assert "recall_at_1" in table and "n_answerable" in table
    assert table.splitlines()[1].split()[1] == "10"  # dev: every second query


def test_metrics_by_hand(embedder):
    figures = evaluate_files(KB_SMALL, QUERIES_SMALL, embedder, threshold=1.0)
    assert figures["coverage"] == 0.0 and figures["answered_precision"] is None
    assert figures["escalation_recall"] == 1.0
    figures = evaluate_files(KB_SMALL, QUERIES_SMALL, embedder, threshold=0.0)
    assert figures["coverage"] == 1.0 and figures["escalation_recall"] == 0.0
    assert figures["answered_precision"] == pytest.approx(
        figures["recall_at_1"] * 20 / 26, abs=1e-3)


def test_pick_threshold_reaches_the_target(small_index, embedder):
    outcomes = run_queries(small_index, embedder, read_queries(QUERIES_SMALL))
    threshold, figures = pick_threshold(outcomes, 0.95)
    assert figures["answered_precision"] >= 0.95
    assert 0.0 <= threshold <= 1.0


def test_calibrate_prints_threshold_and_coverage(capsys, embedder):
    with pytest.raises(SystemExit):
        cli.main(["calibrate", "--kb", str(KB_SMALL), "--queries", str(QUERIES_SMALL),
                  "--target-precision", "0.9"])
    out = capsys.readouterr().out
    assert "threshold" in out and "coverage" in out and "CONFIDENCE_THRESHOLD=" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [('{"qid": "x"}', "missing 'query'"),
     ('{"query": "hi", "gold_kb_id": "nope"}', "gold_kb_id 'nope' is not in the knowledge base"),
     ('{"query": "hi", "gold_kb_id": 5}', "'gold_kb_id' must be a string or null"),
     ("not json", "not valid JSON")],
)
def test_bad_query_lines_name_file_and_line(tmp_path, line, message, capsys):
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "vpn", "gold_kb_id": "en-vpn"}\n' + line + "\n")
    with pytest.raises(SystemExit) as done:
        cli.main(["eval", "--kb", str(KB_SMALL), "--queries", str(path)])
    assert done.value.code == 1
    assert f"{path}:2: {message}" in capsys.readouterr().err


def test_unknown_split_is_a_clear_error(tmp_path):
    with pytest.raises(RecordError, match="no queries with split 'train'"):
        read_queries(QUERIES_SMALL, split="train")
