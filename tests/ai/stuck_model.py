"""A `Generator` around a model that never finishes its answer, for the deadline tests."""

import threading
import time
from pathlib import Path

from supportbot.ai.generator import Generator, ModelLocation


class StuckModel:
    """Stands in for the transformers model behind `Generator`: never finishes a step
    (`every=None`) or keeps producing tokens past max_time (`every` seconds apart); stops
    only when the stopping criteria say so, as a model would at its next token."""

    def __init__(self, every=None):
        self.every, self.stopped = every, threading.Event()

    def generate(self, input_ids, streamer, stopping_criteria=(), **_options):
        import torch

        streamer.put(input_ids)  # the prompt (skipped by the streamer)
        while not any(bool(stop(input_ids, None).all()) for stop in stopping_criteria):
            time.sleep(self.every or 0.02)
            if self.every:
                streamer.put(torch.tensor([7]))
        self.stopped.set()
        streamer.end()


class WordTokenizer:
    eos_token_id = 0

    def apply_chat_template(self, messages, **_options):
        import torch

        return {"input_ids": torch.tensor([[1, 2, 3]])}

    def decode(self, tokens, **_options):
        return "word " * len(tokens)


def stuck_generator(model, **options):
    generator = Generator(ModelLocation(Path("stuck"), None), **options)
    generator._tokenizer, generator._model = WordTokenizer(), model  # loaded
    return generator
