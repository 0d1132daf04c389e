"""Words the selected model does not know, marked where prompts are written.

A wavy underline on each such word of a text field (``UnknownWords``, a QSyntaxHighlighter over
the field's document) and a one-line list (``unknown_label``). The word check is
``storyboard.core.vocabulary``; a model with an open vocabulary has no ``Vocabulary`` and nothing
is marked.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QLabel

from storyboard.core.model import Project
from storyboard.core.resources import model_vocabulary
from storyboard.core.vocabulary import Vocabulary, unknown_line, unknown_spans, unknown_words

MARK = QColor("#e0a030")  # amber: a warning, not an error; readable on light and dark


def vocabulary_for(project: Project, model_override: str = "") -> Vocabulary | None:
    """The closed vocabulary of the model a generation would use now (the settings' model
    when one is chosen there, else the project's), or None."""
    return model_vocabulary(model_override.strip() or project.settings.generation.model)


class UnknownWords(QSyntaxHighlighter):
    """Underlines, in a text field, the words ``vocabulary`` lacks."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.vocabulary: Vocabulary | None = None
        self.mark = QTextCharFormat()
        self.mark.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self.mark.setUnderlineColor(MARK)
        self.mark.setToolTip("The selected model does not know this word")

    def set_vocabulary(self, vocabulary: Vocabulary | None) -> None:
        if vocabulary != self.vocabulary:
            self.vocabulary = vocabulary
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt API)
        if self.vocabulary is not None:
            for start, end in unknown_spans(text, self.vocabulary):
                self.setFormat(start, end - start, self.mark)


def unknown_label() -> QLabel:
    label = QLabel()
    label.setObjectName("unknown-words")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {MARK.name()}")
    label.setToolTip(
        "This model was trained on a small vocabulary: words outside it are left out of its "
        "pictures. Describe the panel with the words it knows, or choose another model."
    )
    return label


def show_unknown(label: QLabel, texts: Iterable[str], vocabulary: Vocabulary | None) -> None:
    """Fill ``label`` with the unknown words of ``texts`` (hidden when there are none)."""
    words = unknown_words(texts, vocabulary) if vocabulary is not None else []
    text = unknown_line(words, vocabulary) if vocabulary is not None else ""
    label.setText(text)
    label.setVisible(bool(text))
