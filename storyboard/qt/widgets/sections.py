"""Collapsible sections for a long form (the panel inspector): a header the artist clicks to fold
or unfold a group of fields, so the fields used most fit a laptop's screen without scrolling
(issue 28: at 1366x768 the inspector showed only the prompt).

Each section remembers whether it was open in ``window.ini`` beside settings.json (under
``sections/<name>``), like the docks' layout: what the artist folded stays folded next time.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.settings import config_dir


def _store() -> QSettings:
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


class Section(QWidget):
    """A header button over a form; the form is shown while the section is open."""

    toggled = Signal(bool)

    def __init__(self, name: str, title: str, opened: bool = True) -> None:
        super().__init__()
        self.name = name
        self.setObjectName(f"section-{name}")
        self.header = QToolButton()
        self.header.setObjectName(f"section-{name}-header")
        self.header.setText(title)
        self.header.setCheckable(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setAutoRaise(True)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.body = QWidget()
        self.form = QFormLayout(self.body)
        self.form.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.header)
        column.addWidget(self.body)
        stored = _store().value(f"sections/{name}")
        self.header.setChecked(opened if stored is None else str(stored).lower() == "true")
        self._show(self.header.isChecked())
        self.header.toggled.connect(self._toggled)

    def is_open(self) -> bool:
        return self.header.isChecked()

    def set_open(self, opened: bool) -> None:
        self.header.setChecked(opened)

    def _toggled(self, opened: bool) -> None:
        self._show(opened)
        _store().setValue(f"sections/{self.name}", opened)
        self.toggled.emit(opened)

    def _show(self, opened: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)
        self.body.setVisible(opened)


def align_labels(*forms: QFormLayout) -> None:
    """The label columns of several forms as wide as the widest, so their fields line up."""
    labels: list[QLabel] = []
    for form in forms:
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if isinstance(label, QLabel):
                labels.append(label)
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)
