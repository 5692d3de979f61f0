"""Percentiles, turn kinds and the run's verdict: any error or storage problem fails it."""

from supportbot.loadtest.check import StorageCheck
from supportbot.loadtest.run import LoadConfig, summarize
from supportbot.loadtest.tally import Tally, distribution, percentile
from supportbot.loadtest.visitors import kind_of


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(100, 0, -1)]  # 1..100, unsorted
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (
        50.0, 95.0, 99.0)
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None
    assert distribution([1.0, 2.0, 30.0]) == {"n": 3, "p50": 2.0, "p95": 30.0, "p99": 30.0,
                                              "max": 30.0}


def test_turns_are_told_apart_by_the_reply():
    assert kind_of({"escalated": True, "answer": "I'm passing you..."}) == "handoff"
    assert kind_of({"escalated": False, "answer": None}) == "silent"
    assert kind_of({"escalated": False, "answer": "...", "generated": True}) == "generated"
    assert kind_of({"escalated": False, "answer": "...", "generated": False}) == "answer"


def run_with(tally: Tally, check: StorageCheck) -> dict:
    return summarize(LoadConfig(sessions=2), tally, check, 1.0,
                     {"before": [0.0] * 3, "after": [0.0] * 3})


def faithful() -> Tally:
    tally = Tally()
    tally.message("1", "s1", "ws", "user").acknowledged = True
    tally.turn("ws", "answer", 12.5)
    tally.session_ids["s1"] = "ws"
    return tally


def test_a_clean_run_is_ok_and_reports_its_figures():
    summary = run_with(faithful(), StorageCheck(messages_checked=1))
    assert summary["ok"] is True
    assert summary["counts"]["user_messages"] == 1 and summary["counts"]["answers"] == 1
    assert summary["latency_ms"]["ws"]["answer"]["p95"] == 12.5
    assert summary["latency_ms"]["rest"]["all_turns"]["n"] == 0


def test_an_error_fails_the_run():
    tally = faithful()
    tally.error("ws_http_429", "Too many messages")
    summary = run_with(tally, StorageCheck(messages_checked=1))
    assert summary["ok"] is False
    assert summary["errors"]["by_kind"] == {"ws_http_429": 1}
    assert summary["errors"]["samples"] == ["ws_http_429: Too many messages"]


def test_a_storage_problem_fails_the_run():
    assert run_with(faithful(), StorageCheck(lost=["1"]))["ok"] is False
    assert run_with(faithful(), StorageCheck(duplicated={"1": 2}))["ok"] is False
    assert run_with(faithful(), StorageCheck(tickets_missing=["SB-X"]))["ok"] is False


def test_a_run_that_sent_nothing_is_not_ok():
    assert run_with(Tally(), StorageCheck())["ok"] is False


def test_kb_answers_are_also_reported_by_when_they_came():
    tally = Tally()
    tally.began -= 65  # the run started 65 s ago: these answers land in its third window
    tally.turn("ws", "answer", 40.0)
    tally.turn("rest", "answer", 900.0)
    tally.turn("ws", "handoff", 5000.0)  # not a KB answer
    tally.began += 60  # ... and these in its first
    tally.turn("rest", "answer", 20.0)
    windows = tally.answers_by_window(30)
    assert [(w["from_s"], w["n"], w["p95"]) for w in windows] == [(0, 1, 20.0), (60, 2, 900.0)]
    summary = run_with(tally, StorageCheck(messages_checked=1))
    assert summary["answers_by_window"] == windows
