import json

import numpy as np
import pytest
from supportbot.ai.records import read_articles
from supportbot.errors import Conflict, PermissionDenied
from supportbot.jobs.reindex import rebuild_index
from supportbot.models import (
    EntrySource,
    KbSuggestion,
    Role,
    SuggestionKind,
)
from supportbot.services import chat, feedback_digest, feedback_review, knowledge, tickets
from supportbot.services.feedback_digest import SuggestionEdit
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL

COFFEE_REPLY = "Empty the drip tray, then hold the power button for 5 seconds."


@pytest.fixture
def served_kb(session):
    """The small KB, published and indexed where live_search reads it."""
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    rebuild_index()
    return {entry.title: entry for entry in knowledge.list_published(session)}


@pytest.fixture
def agent(make_user):
    return make_user("agent1", role=Role.agent)


def solved(session, agent, question, reply, *, request_human=False):
    """A conversation handed to people and closed after the agent's reply."""
    conversation = chat.start_conversation(session)
    turn = chat.send_message(session, conversation.session_id, question)
    if request_human:
        turn = chat.send_message(session, conversation.session_id, "", request_human=True)
    assert turn.ticket is not None, turn.bot_message.text
    tickets.reply(session, agent, turn.ticket.id, "Looking into it.")
    tickets.reply(session, agent, turn.ticket.id, reply)
    tickets.close(session, agent, turn.ticket.id)
    session.commit()
    return conversation


@pytest.fixture
def problem_cases(session, served_kb, agent):
    """Two people asking about the coffee machine's E42 (escalated, solved), one urgent
    VPN question (escalated by keyword, solved), and an unhelpful printer answer that an
    agent then solved in the same conversation."""
    solved(session, agent, "the coffee machine shows error E42, call me on +34 612 345 678",
           "Hold on: " + COFFEE_REPLY + " Write to me at ana.lopez@example.org if not.")
    solved(session, agent, "coffee machine displays the E42 error", COFFEE_REPLY)
    solved(session, agent, "URGENT: cannot connect to the vpn from the hotel",
           "Use the backup VPN gateway vpn2.example.org.")
    printer = chat.start_conversation(session)
    answer = chat.send_message(session, printer.session_id, "my print jobs are stuck")
    assert answer.citations and answer.citations[0]["title"] == "Printer shows offline"
    chat.give_feedback(session, printer.session_id, answer.bot_message.id, -1,
                       comment="it is online, jobs still stuck")
    handed = chat.send_message(session, printer.session_id, "", request_human=True)
    tickets.reply(session, agent, handed.ticket.id, "Cleared the print queue on the server.")
    tickets.close(session, agent, handed.ticket.id)
    session.commit()
    return served_kb


def test_problem_cases_are_collected_masked_and_merged(session, problem_cases):
    cases = feedback_digest.collect_cases(session)
    assert len(cases) == 4
    coffee = next(c for c in cases if "call me" in c.question)
    assert coffee.question == "the coffee machine shows error E42, call me on [phone]"
    assert "[email]" in coffee.agent_reply and COFFEE_REPLY in coffee.agent_reply
    assert coffee.escalation_reason == "low_confidence" and coffee.keys[0].startswith("ticket:")
    printer = next(c for c in cases if c.question == "my print jobs are stuck")
    assert sorted(key.split(":")[0] for key in printer.keys) == ["feedback", "ticket"]
    assert printer.agent_reply == "Cleared the print queue on the server."
    assert printer.comment == "it is online, jobs still stuck"
    assert printer.rejected_articles == (str(problem_cases["Printer shows offline"].id),)


def test_the_digest_suggests_a_new_article_and_phrasings(session, problem_cases, tmp_path):
    result = feedback_digest.run_digest(session, SYSTEM, dataset_dir=tmp_path)
    session.commit()
    assert (result.cases, result.new_cases) == (4, 4)
    lines = [json.loads(line) for line in result.dataset.read_text().splitlines()]
    assert len(lines) == 4 and result.dataset.parent == tmp_path
    assert "+34" not in result.dataset.read_text() and "ana.lopez" not in result.dataset.read_text()
    by_kind = {}
    for suggestion in result.suggestions:
        by_kind.setdefault(suggestion.kind, []).append(suggestion)
    coffee = next(s for s in by_kind["new_article"] if "E42" in s.title)
    assert len(coffee.case_keys) == 2  # both coffee questions, one suggestion
    assert coffee.solution == COFFEE_REPLY  # the most recent agent's final reply
    assert len(coffee.phrasings) == 2 and coffee.locale == "en"
    [vpn] = by_kind["phrasings"]
    assert vpn.entry_id == problem_cases["VPN won't connect"].id
    assert vpn.phrasings == ["URGENT: cannot connect to the vpn from the hotel"]
    assert vpn.match_confidence >= 0.5
    # The printer question found the article its asker rated unhelpful: not a phrasing.
    printer = next(s for s in result.suggestions if "print jobs" in s.problem)
    assert printer.kind == "new_article" and printer.entry_id is None
    # A second run finds the same cases and suggests nothing new.
    again = feedback_digest.run_digest(session, SYSTEM, dataset_dir=tmp_path)
    assert (again.cases, again.new_cases, again.suggestions) == (4, 0, [])


def test_accepting_makes_a_draft_or_adds_phrasings(session, problem_cases, tmp_path,
                                                   monkeypatch, make_user):
    import supportbot.jobs.reindex as reindex

    reindexed = []
    monkeypatch.setattr(reindex, "schedule_reindex", lambda: reindexed.append(1))
    result = feedback_digest.run_digest(session, SYSTEM, dataset_dir=tmp_path)
    session.commit()
    coffee = next(s for s in result.suggestions if "E42" in s.title)
    vpn = next(s for s in result.suggestions if s.kind == SuggestionKind.phrasings.value)
    printer = next(s for s in result.suggestions if "print jobs" in s.problem)

    with pytest.raises(PermissionDenied):
        feedback_digest.accept(session, make_user("agent2", role=Role.agent), coffee.id)
    draft = feedback_digest.accept(session, SYSTEM, coffee.id, SuggestionEdit(
        title="Coffee machine shows E42"))
    session.commit()
    assert (draft.status, draft.source, draft.title) == ("draft", EntrySource.feedback.value,
                                                         "Coffee machine shows E42")
    assert draft.solution == COFFEE_REPLY and len(draft.alternative_phrasings) == 2
    assert session.get(KbSuggestion, coffee.id).result_entry_id == draft.id
    with pytest.raises(Conflict):
        feedback_digest.accept(session, SYSTEM, coffee.id)

    article = feedback_digest.accept(session, SYSTEM, vpn.id)
    session.commit()
    assert article.id == problem_cases["VPN won't connect"].id and article.version == 2
    assert article.alternative_phrasings[-1] == "URGENT: cannot connect to the vpn from the hotel"
    assert reindexed  # the knowledge service queued the reindex after the commit

    feedback_digest.reject(session, SYSTEM, printer.id)
    session.commit()
    assert session.get(KbSuggestion, printer.id).status == "rejected"
    # The printer case's feedback counts as reviewed: it leaves the review list.
    assert feedback_review.pending(session, SYSTEM) == []
    assert feedback_digest.list_suggestions(session, SYSTEM)[1] == 0
    assert feedback_digest.list_suggestions(session, SYSTEM, status="accepted")[1] == 2


def test_editing_a_suggestion_is_validated(session, problem_cases, tmp_path):
    from supportbot.errors import InvalidInput

    result = feedback_digest.run_digest(session, SYSTEM, dataset_dir=tmp_path)
    session.commit()
    vpn = next(s for s in result.suggestions if s.kind == SuggestionKind.phrasings.value)
    with pytest.raises(InvalidInput) as refused:
        feedback_digest.edit_suggestion(session, SYSTEM, vpn.id, SuggestionEdit(phrasings=[" "]))
    assert "phrasings" in refused.value.fields
    with pytest.raises(InvalidInput):
        feedback_digest.edit_suggestion(session, SYSTEM, vpn.id, SuggestionEdit(title=""))
    edited = feedback_digest.edit_suggestion(session, SYSTEM, vpn.id, SuggestionEdit(
        phrasings=["vpn fails at the hotel"]))
    assert edited.phrasings == ["vpn fails at the hotel"]


def test_phrasings_of_an_article_without_a_problem_can_be_edited(session):
    """The article has only a solution and no agent replied: the suggestion's copy of it
    has neither problem nor solution, which is no reason to refuse new phrasings."""
    from supportbot.errors import InvalidInput

    entry = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        title="Printer shows offline", solution="Turn it off and on.", status="published"))
    suggestion = KbSuggestion(kind="phrasings", title=entry.title, entry_id=entry.id,
                              phrasings=["printer offline again"], case_keys=["feedback:x"])
    session.add(suggestion)
    session.flush()
    edited = feedback_digest.edit_suggestion(session, SYSTEM, suggestion.id, SuggestionEdit(
        phrasings=["  printer   offline again ", "printer is offline"]))
    assert edited.phrasings == ["printer offline again", "printer is offline"]
    with pytest.raises(InvalidInput) as refused:  # what the admin changes is still checked
        feedback_digest.edit_suggestion(session, SYSTEM, suggestion.id,
                                        SuggestionEdit(title=" ", phrasings=[]))
    assert refused.value.message == "The suggestion has errors."
    assert set(refused.value.fields) == {"title", "phrasings"}


def test_clustering_cuts_at_the_similarity():
    vectors = np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0]], dtype=np.float32)
    assert feedback_digest.cluster(vectors, 0.9) == [[0, 1], [2]]
    assert feedback_digest.cluster(vectors, 0.99) == [[0], [1], [2]]
    assert feedback_digest.cluster(vectors[:1], 0.9) == [[0]]
    assert feedback_digest.cluster(vectors[:0], 0.9) == []


def test_every_article_counts_its_ratings(session, served_kb):
    vpn = served_kb["VPN won't connect"]
    for rating in (1, 1, -1):
        conversation = chat.start_conversation(session)
        reply = chat.send_message(session, conversation.session_id, "my vpn keeps failing")
        chat.give_feedback(session, conversation.session_id, reply.bot_message.id, rating)
    counts = feedback_review.article_ratings(session, [vpn.id, served_kb["Mailbox is full"].id])
    assert counts == {str(vpn.id): feedback_review.ArticleRatings(2, 1)}
    assert feedback_review.ratings_of(session, served_kb["Mailbox is full"].id) == \
        feedback_review.ArticleRatings(0, 0)


def test_the_digest_command_reports_what_it_made(session, problem_cases, settings_env,
                                                 tmp_path, capsys):
    from supportbot import cli

    settings_env(FEEDBACK_DATASET_PATH=str(tmp_path / "cases"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["feedback-digest"])
    output = capsys.readouterr().out
    assert (exit_info.value.code or 0) == 0, output
    assert "4 problem cases (4 new)" in output and "new suggestions" in output
    assert str(tmp_path / "cases") in output
    assert list((tmp_path / "cases").glob("*.jsonl"))
    session.expire_all()
    assert feedback_digest.list_suggestions(session, SYSTEM)[1] >= 2
