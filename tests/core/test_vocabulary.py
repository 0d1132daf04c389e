"""The built-in model's closed vocabulary, read from its tokenizer file, and the word check."""

from __future__ import annotations

from storyboard.core.resources import model_vocabulary
from storyboard.core.vocabulary import Vocabulary, unknown_line, unknown_spans, unknown_words


def test_the_toy_world_vocabulary_comes_from_its_tokenizer() -> None:
    vocabulary = model_vocabulary("toyworld")
    assert vocabulary is not None and vocabulary.model == "Toy world"
    assert {"person", "blue", "hair", "beach", "waving", "glasses"} <= vocabulary.words
    assert "teal" not in vocabulary.words and "spaceship" not in vocabulary.words
    assert len(vocabulary.words) < 100  # whole words only, no byte pieces
    assert model_vocabulary("sdxl-base") is None  # an open vocabulary: nothing to mark
    assert model_vocabulary("no-such-model") is None


def test_unknown_words_are_found_as_the_tokenizer_splits_them() -> None:
    vocabulary = Vocabulary("Toy world", frozenset({"blue", "green", "hair", "on", "the", "beach"}))
    text = "[Mia Rossi] Teal hair, blue-green, on the beach in 3D at the spaceship's door"
    spans = unknown_spans(text, vocabulary)
    assert [text[a:b] for a, b in spans] == ["Teal", "in", "at", "spaceship", "door"]
    # the [Name] tag is no word of the prompt; single letters ("D", "s") are byte tokens
    assert unknown_words([text, "TEAL sky"], vocabulary) == [
        "teal", "in", "at", "spaceship", "door", "sky"
    ]  # fmt: skip
    line = unknown_line(["teal", "spaceship"], vocabulary)
    assert line.startswith("Not known to the Toy world model") and line.endswith("teal, spaceship")
    assert unknown_line([], vocabulary) == ""
    many = unknown_line([f"w{i}" for i in range(15)], vocabulary, most=12)
    assert many.endswith("w11 and 3 more")
