import json

import pytest

from supportbot.ai.records import RecordError, read_articles


def write(tmp_path, *lines):
    path = tmp_path / "kb.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"id": "a1", "title": "Wi-Fi", "problem": "No Wi-Fi", "solution": "Reboot",
                   "tags": ["WiFi"], "lang": "en", "examples": ["wifi down", " "]})


def test_reads_articles(tmp_path):
    [article] = read_articles(write(tmp_path, GOOD, ""))
    assert article.id == "a1" and article.tags == ("wifi",) and article.examples == ("wifi down",)
    assert "Reboot" in article.text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "kb.jsonl:2: not valid JSON"),
        ("[1, 2]", "kb.jsonl:2: expected a JSON object"),
        (json.dumps({"title": "x"}), "kb.jsonl:2: missing 'id'"),
        (json.dumps({"id": "a2"}), "has no text"),
        (json.dumps({"id": "a2", "title": "x", "lang": "fr"}), "unknown language 'fr'"),
        (json.dumps({"id": "a2", "title": "x", "tags": "vpn"}), "'tags' must be a list"),
        (json.dumps({"id": "a1", "title": "again"}), "duplicate id 'a1' (first at"),
        (json.dumps({"id": "a2", "title": "x", "solution": "y" * 100_001}), "longer than"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    with pytest.raises(RecordError, match=message.replace("(", r"\(").replace("[", r"\[")):
        read_articles(write(tmp_path, GOOD, line))


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(RecordError, match="empty"):
        read_articles(write(tmp_path, "", "  "))
    with pytest.raises(RecordError, match="cannot read"):
        read_articles(tmp_path / "missing.jsonl")
