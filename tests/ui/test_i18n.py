import pytest

from supportbot.ui.i18n import MESSAGES, browser_language, text_for
from supportbot.ui.translate import service_message


@pytest.mark.parametrize(
    ("header", "lang"),
    [("es-ES,es;q=0.9,en;q=0.8", "es"), ("en-US,en;q=0.9", "en"), ("fr-FR,es;q=0.5", "es"),
     ("de-DE", "en"), ("", "en"), ("*", "en")],
)
def test_browser_language(header, lang):
    assert browser_language(header) == lang


def test_every_message_has_both_languages():
    for key, (english, spanish) in MESSAGES.items():
        assert english.strip() and spanish.strip(), key
    assert text_for("nav.login", "es") == "Iniciar sesión"
    assert text_for("nav.login", "fr") == "Log in"


def test_service_messages_are_translated():
    assert service_message("Password must be at least 12 characters long.", "es") == (
        "La contraseña debe tener al menos 12 caracteres.")
    assert service_message("This username is already taken.", "es").startswith("Este nombre")
    assert service_message("This username is already taken.", "en") == (
        "This username is already taken.")
    assert service_message("Something new.", "es") == "Something new."  # falls back
    assert service_message("The title contains a character that cannot be stored (U+0000); "
                           "remove it and try again.", "es") == (
        "El título contiene un carácter que no se puede guardar (U+0000); quítalo y vuelve "
        "a intentarlo.")


def test_every_service_message_has_spanish():
    """Messages the services behind the pages raise all have a Spanish version."""
    import re
    from pathlib import Path

    import supportbot.services as services

    folder = Path(services.__file__).parent
    raised = set()
    for name in ("accounts.py", "passwords.py", "permissions.py", "auth_tokens.py", "chat.py",
                 "tickets.py", "escalation.py", "feedback_review.py", "knowledge.py",
                 "finetune.py", "feedback_digest.py"):
        source = (folder / name).read_text()
        raised |= set(re.findall(r'(?:refuse|Invalid\w*|Conflict|NotFound|NotAuthenticated|'
                                 r'PermissionDenied|AccountDeactivated|SessionExpired)\(\s*"([^"{]+)"',
                                 source))
    untranslated = [m for m in raised if service_message(m, "es") == m]
    assert untranslated == []


def test_the_embed_script_speaks_both_languages_like_the_app():
    """assets/embed.js runs on other sites, outside the app: its own copy of the texts."""
    import re
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "assets" / "embed.js").read_text()
    found = {lang: dict(re.findall(r'(\w+): "([^"]+)"', body))
             for lang, body in re.findall(r"(en|es): \{([^}]*)\}", script)}
    for index, lang in enumerate(("en", "es")):
        assert found[lang] == {name: MESSAGES[key][index] for name, key in (
            ("open", "embed.open"), ("close", "embed.close"), ("title", "embed.frame_title"))}
