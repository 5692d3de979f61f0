"""The pages' message for an event that failed before any page code ran."""

from redis.exceptions import ConnectionError as RedisConnectionError

from supportbot.ui.errors import KEY, backend_exception
from supportbot.ui.i18n import text_for


def _failed(error: Exception) -> Exception:
    try:
        try:
            raise error
        except Exception as cause:
            raise RuntimeError("while loading the state") from cause
    except RuntimeError as wrapped:
        return wrapped


def test_redis_unreachable_says_nothing_was_sent_in_both_languages():
    shown = str(backend_exception(_failed(RedisConnectionError("Error 111 connecting"))))
    for lang in ("en", "es"):
        assert text_for(KEY, lang).split(":")[0] in shown
    assert "Error 111" not in shown  # no internals on the page


def test_any_other_failure_keeps_reflexs_own_message():
    shown = str(backend_exception(_failed(ValueError("a bug"))))
    assert "An error occurred." in shown and text_for(KEY, "en").split(":")[0] not in shown
