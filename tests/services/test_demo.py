from sqlmodel import func, select

from supportbot.config import get_settings
from supportbot.models import KnowledgeEntry, User
from supportbot.services import accounts
from supportbot.services.demo import DEMO_KB, load_demo_data


def test_demo_data_is_idempotent(session, settings_env):
    settings_env(DEMO_ADMIN_PASSWORD="correct horse battery staple")
    first = load_demo_data(session, get_settings())
    session.commit()
    passwords = {account.username: account.password for account in first.accounts}
    assert passwords["admin"] == "correct horse battery staple"
    assert passwords["agent"] and passwords["user"]
    assert first.kb.created >= 40
    second = load_demo_data(session, get_settings())
    session.commit()
    assert all(account.password is None for account in second.accounts)
    assert second.kb.created == 0 and second.kb.updated == 0
    assert session.exec(select(func.count()).select_from(User)).one() == 3
    assert session.exec(select(func.count()).select_from(KnowledgeEntry)).one() == first.kb.created
    assert accounts.authenticate(session, "admin", "correct horse battery staple").role == "admin"
    assert accounts.authenticate(session, "user", passwords["user"]).role == "user"


def test_demo_kb_is_bilingual_with_phrasings():
    from supportbot.ai.records import read_articles

    articles = read_articles(DEMO_KB)
    by_lang = {lang: [a for a in articles if a.lang == lang] for lang in ("en", "es")}
    assert len(by_lang["en"]) >= 20 and len(by_lang["es"]) >= 20
    assert all(len(article.examples) >= 3 and article.solution for article in articles)


def test_a_weak_preset_password_names_its_variable(session, settings_env):
    import pytest

    from supportbot.errors import InvalidInput

    settings_env(DEMO_AGENT_PASSWORD="agent")
    with pytest.raises(InvalidInput, match="DEMO_AGENT_PASSWORD: Password must be at least"):
        load_demo_data(session, get_settings())
