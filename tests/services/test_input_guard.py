"""The rule for what reaches the database (services.input_guard): text is kept as typed
except NUL and lone surrogates, refused naming the field; attachment references stay
inside the attachments folder. Checked by the services and again on every flush."""

import pytest
from sqlmodel import select

from supportbot.errors import InvalidInput
from supportbot.models import KnowledgeEntry, Message, SenderType, Ticket
from supportbot.services import chat, input_guard, knowledge
from supportbot.services.permissions import SYSTEM

KEPT = "\x01\x02\x1b[31mred\x7f \u202eevil\u202c \ufeffbom \u200b 🙂 e\u0301 \t tab"


def test_the_first_character_that_cannot_be_stored_is_named():
    assert input_guard.first_unstorable("plain 🙂 text \x01") is None
    assert input_guard.first_unstorable("a\x00b") == "U+0000"
    assert input_guard.first_unstorable(["ok", {"key": "x\udfffy"}]) == "U+DFFF"
    assert input_guard.first_unstorable({"k\ud800": "v"}) == "U+D800"  # keys too
    assert input_guard.first_unstorable([1, None, 2.5, True]) is None
    with pytest.raises(InvalidInput) as refused:
        input_guard.require_storable("x\x00", "title")
    assert refused.value.fields == {"title": refused.value.message}
    assert refused.value.message == ("The title contains a character that cannot be stored "
                                     "(U+0000); remove it and try again.")


def test_control_characters_are_stored_as_typed(session):
    conversation = chat.start_conversation(session)
    chat.send_message(session, conversation.session_id, KEPT, searcher=_no_index,
                      generator=None)
    session.expire_all()
    stored = session.exec(select(Message).where(
        Message.sender_type == SenderType.user.value)).one()
    assert stored.text == KEPT.strip()


@pytest.mark.parametrize("bad", ["\x00", "x\udfffy", "\ud800"])
def test_a_refused_message_loses_nothing_stored_before(session, bad):
    conversation = chat.start_conversation(session)
    chat.send_message(session, conversation.session_id, "first question", searcher=_no_index,
                      generator=None)
    before = _texts(session, conversation)
    with pytest.raises(InvalidInput) as refused:
        chat.send_message(session, conversation.session_id, f"second {bad} question",
                          searcher=_no_index, generator=None)
    assert set(refused.value.fields) == {"text"}
    assert "message contains a character that cannot be stored" in refused.value.message
    session.rollback()
    assert _texts(session, conversation) == before and "first question" in before


def test_the_flush_refuses_what_a_service_forgot_to_check(session):
    """A write that skips the services' checks still gets InvalidInput naming the column,
    and the session goes on after the rollback its caller does."""
    conversation = chat.start_conversation(session)
    session.add(Message(conversation_id=conversation.id, sender_type="user", text="a\x00b"))
    with pytest.raises(InvalidInput) as refused:
        session.flush()
    assert set(refused.value.fields) == {"text"}
    session.rollback()
    session.add(Ticket(reference="SB-TEST01", title="t", tags=["fine", "bad\u0000"]))
    with pytest.raises(InvalidInput) as refused:
        session.commit()
    assert set(refused.value.fields) == {"tags"}
    session.rollback()
    assert session.exec(select(Ticket)).first() is None
    assert session.exec(select(Message)).first() is None


def test_an_edit_that_cannot_be_stored_keeps_the_stored_article(session, monkeypatch):
    import supportbot.jobs.reindex as reindex

    monkeypatch.setattr(reindex, "schedule_reindex", lambda: None)
    entry = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        "VPN drops", solution="Reconnect.", phrasings=["vpn keeps dropping"]))
    session.commit()
    edit = knowledge.ArticleDraft("VPN drops\x00", problem="x\udfff", solution="Reconnect.",
                                  phrasings=["ok", "bad\x00"], tags=["fine"])
    with pytest.raises(InvalidInput) as refused:
        knowledge.update_entry(session, SYSTEM, entry.id, edit, expected_version=1)
    assert set(refused.value.fields) == {"title", "problem", "phrasings"}  # every bad field
    session.rollback()
    entry.problem = "changed \udfff behind the service's back"
    with pytest.raises(InvalidInput, match="problem"):
        session.commit()
    session.rollback()
    session.expire_all()
    stored = session.get(KnowledgeEntry, entry.id)
    assert (stored.title, stored.problem, stored.version) == ("VPN drops", "", 1)


# -- attachments -----------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "../../etc/passwd", "..", "a/../../b", "/etc/passwd", "//server/share", "C:\\boot.ini",
    "c:evil", "a\\..\\b", "dir/", "./x", "", "x" * 256, "a\x00.png", "\udfff.png",
])
def test_attachment_references_outside_the_folder_are_refused(session, name):
    conversation = chat.start_conversation(session)
    session.add(Message(conversation_id=conversation.id, sender_type="user", text="see file",
                        attachments=[{"name": "fine.png"}, {"name": name}]))
    with pytest.raises(InvalidInput) as refused:
        session.commit()
    assert set(refused.value.fields) == {"attachments"}
    session.rollback()
    assert session.exec(select(Message)).first() is None


@pytest.mark.parametrize("reference", [{"path": "x.png"}, "x.png", {"name": 7}])
def test_attachment_references_are_named_dicts(session, reference):
    conversation = chat.start_conversation(session)
    session.add(Message(conversation_id=conversation.id, sender_type="user", text="file",
                        attachments=[reference]))
    with pytest.raises(InvalidInput):
        session.commit()
    session.rollback()


def test_plain_attachment_references_are_kept(session):
    conversation = chat.start_conversation(session)
    references = [{"name": "photo.png"}, {"name": "2026/11/scan 1.pdf", "path": "ab/cd.pdf",
                                          "size": 1234}, {"name": "..hidden"}]
    session.add(Message(conversation_id=conversation.id, sender_type="user", text="files",
                        attachments=references))
    session.commit()
    session.expire_all()
    assert session.exec(select(Message)).one().attachments == references


def _no_index(_query):  # noqa: ANN001, ANN202
    from supportbot.ai.store import IndexUnavailable

    raise IndexUnavailable("no index in this test")


def _texts(session, conversation):  # noqa: ANN001, ANN202
    session.expire_all()
    return [m.text for m in chat.messages_of(session, conversation)]
