import pytest

from supportbot.ai.text import detect_language, fold, query_stems, stems


def test_fold_removes_accents_but_keeps_enye():
    assert fold("Contraseña CADUCÓ ÁRBOL") == "contraseña caduco arbol"


def test_stems_drop_stopwords_and_share_roots():
    assert stems("Las impresoras no imprimen", "es") == stems("impresora imprime", "es")
    assert "the" not in stems("the printers are offline", "en")


def test_query_stems_use_both_languages():
    tokens = query_stems("impresoras printers")
    assert "impresor" in tokens and "printer" in tokens


@pytest.mark.parametrize(
    ("text", "lang"),
    [("mi vpn no conecta", "es"), ("¿Cuántos puntos?", "es"), ("la impresora está atascada", "es"),
     ("my vpn does not connect", "en"), ("How do I reset my password?", "en")],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_detect_language_falls_back_when_unsure():
    assert detect_language("vpn", default="es") == "es"
