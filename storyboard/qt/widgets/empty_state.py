"""What a view shows when it has nothing to show: a line that says what to do, and the buttons
that do it (issue 28: an empty project said "Select a panel" and offered no way to add one).

``EmptyState`` is the message with its buttons; ``WithEmptyState`` stacks it over the view it
stands in for and shows whichever fits. ``StartPage`` is the panel workspace of a project with
no panels yet: add the first panel, start from a story script, open a project, a recent one,
or the sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.qt.icons import icon

Button = tuple[str, str, Callable[[], object]]  # icon name, text, what it does


class EmptyState(QWidget):
    def __init__(self, name: str, title: str, text: str, buttons: Sequence[Button]) -> None:
        super().__init__()
        self.setObjectName(name)
        self.title = QLabel(f"<h2>{title}</h2>")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel(text)
        self.text.setObjectName("empty-text")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setFixedWidth(300)  # a wrapped label in a column needs its width given,
        self.text.setMinimumHeight(self.text.heightForWidth(300))  # and its height
        self.buttons: dict[str, QPushButton] = {}
        row = QVBoxLayout()  # one above the other: the view may be narrow
        for index, (icon_name, label, slot) in enumerate(buttons):
            button = QPushButton(icon(icon_name), label)
            button.setObjectName(f"{name}-{icon_name}")
            button.clicked.connect(lambda _=False, s=slot: s())
            button.setDefault(index == 0)
            button.setMinimumWidth(220)
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
            self.buttons[label] = button
        self.column = QVBoxLayout(self)
        self.column.addStretch()
        self.column.addWidget(self.title)
        self.column.addWidget(self.text, 0, Qt.AlignmentFlag.AlignHCenter)
        self.column.addLayout(row)
        self.column.addStretch()


class StartPage(EmptyState):
    """The panel workspace of a project without panels, and the first thing a new user meets."""

    def __init__(
        self,
        add_panel: Callable[[], object],
        from_script: Callable[[], object],
        open_project: Callable[[], object],
        open_sample: Callable[[], object] | None,
        open_recent: Callable[[Path], object],
    ) -> None:
        buttons: list[Button] = [
            ("square-plus", "Add the first panel", add_panel),
            ("scroll-text", "New from story script…", from_script),
            ("folder-open", "Open…", open_project),
        ]
        if open_sample is not None:
            buttons.append(("book-open", "Open the sample", open_sample))
        super().__init__(
            "start-page",
            "This storyboard has no panels yet",
            "Add a panel and write what it shows, or start from a story script: each line "
            "becomes a panel, ready to generate.",
            buttons,
        )
        self.open_recent = open_recent
        self.recent_title = QLabel("<b>Recent projects</b>")
        self.recent_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recent = QVBoxLayout()
        self.column.insertWidget(self.column.count() - 1, self.recent_title)
        self.column.insertLayout(self.column.count() - 1, self.recent)

    def show_recent(self, paths: Sequence[str]) -> None:
        while self.recent.count():
            item = self.recent.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        shown = [Path(p) for p in paths if Path(p).is_dir()][:6]
        self.recent_title.setVisible(bool(shown))
        for path in shown:
            link = QToolButton()
            link.setObjectName("recent-project")
            link.setText(path.stem)
            link.setToolTip(str(path))
            link.setAutoRaise(True)
            link.clicked.connect(lambda _=False, p=path: self.open_recent(p))
            self.recent.addWidget(link, 0, Qt.AlignmentFlag.AlignHCenter)


class WithEmptyState(QStackedWidget):
    """A view, or its empty state in its place."""

    def __init__(self, view: QWidget, empty: QWidget) -> None:
        super().__init__()
        self.view, self.empty = view, empty
        self.addWidget(view)
        self.addWidget(empty)

    def show_empty(self, empty: bool) -> None:
        self.setCurrentWidget(self.empty if empty else self.view)
