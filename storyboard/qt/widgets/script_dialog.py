"""The Story script dialog: paste or open a StoryDiffusion story or a Fountain screenplay, see
what it becomes (scenes, panels, characters) and every problem with its line, then create."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.model import Project
from storyboard.core.numbering import panel_numbers
from storyboard.core.script import ScriptError, ScriptResult, load_script, parse_script

ScriptChoice = Literal["auto", "storydiffusion", "fountain"]
KINDS: dict[str, ScriptChoice] = {
    "Detect automatically": "auto",
    "StoryDiffusion": "storydiffusion",
    "Fountain": "fountain",
}


class ScriptDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, fps: float = 24.0) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project from a story script")
        self.resize(1000, 640)
        self.fps = fps
        self.result_: ScriptResult | None = None
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("script")
        self.editor.setPlaceholderText(
            "[Mira] a young courier with short red hair\n\n## The storm\n"
            "[Mira] climbing a cliff path in the rain #MIRA: One last delivery."
        )
        self.kind = QComboBox()
        self.kind.addItems(list(KINDS))
        open_button = QPushButton("Open script file…")
        open_button.clicked.connect(self._open_file)
        self.tree = QTreeWidget()
        self.tree.setObjectName("parsed")
        self.tree.setHeaderLabels(["Panel", "Prompt", "Dialogue"])
        self.problems = QListWidget()
        self.problems.setObjectName("problems")
        self.problems.itemActivated.connect(self._go_to_problem)
        self.problems.itemClicked.connect(self._go_to_problem)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create project")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        top = QHBoxLayout()
        top.addWidget(open_button)
        top.addWidget(self.kind)
        left_layout.addLayout(top)
        left_layout.addWidget(self.editor)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.summary)
        right_layout.addWidget(self.tree, 3)
        right_layout.addWidget(QLabel("Problems (click to go to the line)"))
        right_layout.addWidget(self.problems, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        layout.addWidget(self.buttons)

        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.reparse)
        self.editor.textChanged.connect(self._timer.start)
        self.kind.currentIndexChanged.connect(lambda _: self.reparse())
        self.reparse()

    def project(self) -> Project | None:
        return self.result_.project if self.result_ else None

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)
        self.reparse()

    def _open_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open story script", "", "Scripts (*.txt *.fountain *.spmd);;All files (*)"
        )
        if name:
            self.load_file(Path(name))

    def load_file(self, path: Path) -> None:
        try:
            result = load_script(path, fps=self.fps)
        except ScriptError as exc:
            self.problems.clear()
            self.problems.addItem(str(exc))
            return
        self.editor.setPlainText(path.read_text(encoding="utf-8-sig"))
        self.kind.setCurrentIndex(list(KINDS.values()).index(result.kind))
        self.reparse()

    def reparse(self) -> None:
        text = self.editor.toPlainText()
        kind = KINDS[self.kind.currentText()]
        result = parse_script(text, kind=kind, fps=self.fps) if text.strip() else None
        self.result_ = result
        self.tree.clear()
        self.problems.clear()
        if result is None:
            self.summary.setText("Paste or open a script.")
            self.create_button.setEnabled(False)
            return
        project = result.project
        numbers = panel_numbers(project)
        for scene in project.ordered_scenes():
            scene_item = QTreeWidgetItem([scene.title or "Untitled scene", "", ""])
            for panel_id in scene.panel_ids:
                panel = project.panels[panel_id]
                scene_item.addChild(
                    QTreeWidgetItem([numbers[panel_id], panel.prompt, panel.dialogue])
                )
            self.tree.addTopLevelItem(scene_item)
            scene_item.setExpanded(True)
        for problem in result.problems:
            item = QListWidgetItem(str(problem))
            item.setData(Qt.ItemDataRole.UserRole, problem.line)
            self.problems.addItem(item)
        names = ", ".join(c.name for c in project.ordered_characters()) or "none"
        self.summary.setText(
            f"{result.kind}: {len(project.scenes)} scenes, {len(project.panels)} panels, "
            f"characters: {names}; {len(result.problems)} problem(s)"
        )
        self.create_button.setEnabled(not result.problems and bool(project.panels))

    def _go_to_problem(self, item: QListWidgetItem) -> None:
        line = int(item.data(Qt.ItemDataRole.UserRole) or 0)
        if line <= 0:
            return
        block = self.editor.document().findBlockByNumber(line - 1)
        cursor = QTextCursor(block)
        cursor.select(QTextCursor.SelectionType.LineUnderCursor)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()
