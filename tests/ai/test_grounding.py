from supportbot.ai.grounding import check

SOURCE = ["Reset a forgotten password\n1. Open the self-service password reset page.\n"
          "2. Verify with your phone.\n3. Choose a new password of at least 12 characters."]


def test_an_answer_copied_from_the_article_is_grounded():
    result = check("1. Open the self-service password reset page.\n2. Verify with your "
                   "phone.\n3. Choose a new password of at least 12 characters.", SOURCE)
    assert result.grounded and result.support == 1.0


def test_invented_steps_are_rejected():
    result = check("Call the helpdesk and ask Bob to reinstall Windows.", SOURCE)
    assert not result.grounded and "bob" in result.unsupported and result.support < 0.5


def test_an_invented_number_is_rejected_even_if_every_word_is_known():
    result = check("Choose a new password of at least 16 characters.", SOURCE)
    assert not result.grounded and result.missing_numbers == ("16",)


def test_inflections_of_source_words_count_as_support():
    assert check("Opening the reset page, verifying with the phone, choosing passwords.",
                 SOURCE).grounded


def test_too_little_substance_is_not_an_answer():
    assert not check("Yes.", SOURCE).grounded
    assert not check("", SOURCE).grounded


def test_loops_and_look_alike_letters_are_rejected():
    loop = "Open the reset page. " * 5
    assert check(loop, SOURCE).repetitive and not check(loop, SOURCE).grounded
    cyrillic = "Open the self-service раssword reset page and verify with your phone."
    result = check(cyrillic, SOURCE)
    assert result.foreign_script and not result.grounded
    assert not check("Abre la página, verifica con tu teléfono y elige una contraseña "
                     "nueva.", ["Abre la página de restablecimiento. Verifica con tu "
                                "teléfono. Elige una contraseña nueva."]).foreign_script
