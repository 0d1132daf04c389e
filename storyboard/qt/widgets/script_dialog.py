"""The Story script dialog: paste or open a StoryDiffusion story or a Fountain or Final Draft
(``.fdx``) screenplay, see what it becomes (scenes, panels, characters) and every problem with its
line, then create.

The script is parsed on a worker thread, 250 ms after the last keystroke: a long script (or a
hostile one) never freezes the editor. Each parse carries a generation number; typing starts a
new one, drops a parse still waiting to start, and the result of any older one is ignored when it
arrives. "Create project" is enabled only while the result shown is that of the text shown.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
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

from storyboard.core.errors import ProjectError
from storyboard.core.model import Project
from storyboard.core.numbering import panel_numbers
from storyboard.core.prompt_text import assemble_prompt
from storyboard.core.script import (
    ScriptError,
    ScriptResult,
    kind_for_file,
    parse_script,
    read_script,
)
from storyboard.core.vocabulary import known_line
from storyboard.qt.widgets.vocabulary_marks import show_unknown, unknown_label, vocabulary_for

log = logging.getLogger(__name__)

ScriptChoice = Literal["auto", "storydiffusion", "fountain", "fdx"]
SHOWN_PROBLEMS = 1000  # the list is for fixing a script line by line; the summary counts all
SHOWN_NAMES = 10
KINDS: dict[str, ScriptChoice] = {
    "Detect automatically": "auto",
    "StoryDiffusion": "storydiffusion",
    "Fountain": "fountain",
    "Final Draft": "fdx",
}


class _ParseSignals(QObject):
    done = Signal(int, object, str)  # generation, ScriptResult or None, error message


class _Parse(QRunnable):
    """One parse on the dialog's worker thread; its result goes back by a queued signal."""

    def __init__(
        self, generation: int, text: str, kind: ScriptChoice, fps: float, signals: _ParseSignals
    ) -> None:
        super().__init__()
        self.generation, self.text, self.kind, self.fps = generation, text, kind, fps
        self.signals = signals

    def run(self) -> None:
        try:
            result = parse_script(self.text, kind=self.kind, fps=self.fps)
        except ProjectError as exc:  # a Final Draft text that is not Final Draft XML
            self.signals.done.emit(self.generation, None, str(exc))
            return
        except Exception as exc:  # parse_script never raises for text: a bug, shown, not lost
            log.exception("the script could not be parsed")
            self.signals.done.emit(self.generation, None, f"the script could not be read: {exc}")
            return
        self.signals.done.emit(self.generation, result, "")


class ScriptDialog(QDialog):
    parsed = Signal()  # the result of the text now in the editor is shown

    def __init__(
        self, parent: QWidget | None = None, fps: float = 24.0, model_source: str = ""
    ) -> None:
        super().__init__(parent)
        self.model_source = model_source  # the settings' model, when one is chosen there
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
        self.unknown = unknown_label()  # words of the prompts the model does not know
        self.unknown.hide()
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
        right_layout.addWidget(self.unknown)
        right_layout.addWidget(self.tree, 3)
        right_layout.addWidget(QLabel("Problems (click to go to the line)"))
        right_layout.addWidget(self.problems, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        layout.addWidget(self.buttons)

        self._generation = 0  # of the newest parse; results of older ones are dropped
        self._shown = 0  # the generation whose result is shown
        self._pin_kind = False  # after opening a file: show the kind its first parse found
        self._signals = _ParseSignals()
        self._signals.done.connect(self._show)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.reparse)
        self.editor.textChanged.connect(self._text_changed)
        self.kind.currentIndexChanged.connect(lambda _: self.reparse())
        self.reparse()

    def project(self) -> Project | None:
        """The project of the text shown; None while its parse is still running."""
        current = self._shown == self._generation
        return self.result_.project if self.result_ and current else None

    def set_text(self, text: str) -> None:
        """Show ``text`` and parse it now (the result arrives with :attr:`parsed`)."""
        self.editor.setPlainText(text)
        self.reparse()

    def _text_changed(self) -> None:
        self._generation += 1  # what is shown, or still being parsed, is out of date
        self.create_button.setEnabled(False)
        self._timer.start()

    def _open_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open story script", "", "Scripts (*.txt *.fountain *.spmd *.fdx);;All files (*)"
        )
        if name:
            self.load_file(Path(name))

    def load_file(self, path: Path) -> None:
        try:
            text = read_script(path)
        except ScriptError as exc:
            self.problems.clear()
            self.problems.addItem(str(exc))
            return
        kind = kind_for_file(path)
        self._pin_kind = kind == "auto"
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(list(KINDS.values()).index(kind))
        self.kind.blockSignals(False)
        self.set_text(text)

    def reparse(self) -> None:
        """Parse the editor's text on the worker thread, superseding any parse before it."""
        self._timer.stop()
        self._generation += 1
        self.create_button.setEnabled(False)
        self._pool.clear()  # a parse queued behind the running one is already out of date
        text = self.editor.toPlainText()
        if not text.strip():
            self._show(self._generation, None, "")
            return
        kind = KINDS[self.kind.currentText()]
        self._pool.start(_Parse(self._generation, text, kind, self.fps, self._signals))

    def wait(self) -> None:
        """Block until the worker is idle (for tests)."""
        self._pool.waitForDone()

    def _show(self, generation: int, result: ScriptResult | None, error: str) -> None:
        if generation != self._generation:
            return  # the text changed while this parse ran
        self.result_, self._shown = result, generation
        self.tree.clear()
        self.problems.clear()
        self.unknown.hide()
        if result is None:
            self.summary.setText(error or "Paste or open a script.")
            self.create_button.setEnabled(False)
            self.parsed.emit()
            return
        if self._pin_kind:
            self._pin_kind = False
            self.kind.blockSignals(True)
            self.kind.setCurrentIndex(list(KINDS.values()).index(result.kind))
            self.kind.blockSignals(False)
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
        for problem in result.problems[:SHOWN_PROBLEMS]:
            item = QListWidgetItem(str(problem))
            item.setData(Qt.ItemDataRole.UserRole, problem.line)
            self.problems.addItem(item)
        if len(result.problems) > SHOWN_PROBLEMS:
            self.problems.addItem(f"… and {len(result.problems) - SHOWN_PROBLEMS} more")
        characters = project.ordered_characters()
        names = ", ".join(c.name for c in characters[:SHOWN_NAMES]) or "none"
        if len(characters) > SHOWN_NAMES:
            names += f" and {len(characters) - SHOWN_NAMES} more"
        self.summary.setText(
            f"{result.kind}: {len(project.scenes)} scenes, {len(project.panels)} panels, "
            f"characters: {names}; {len(result.problems)} problem(s)"
        )
        vocabulary = vocabulary_for(project, self.model_source)
        prompts = (assemble_prompt(project, panel) for panel in project.ordered_panels())
        show_unknown(self.unknown, prompts, vocabulary)
        if vocabulary is not None and self.unknown.text():  # what to write instead
            self.unknown.setText(f"{self.unknown.text()}. {known_line(vocabulary)}")
        self.create_button.setEnabled(not result.problems and bool(project.panels))
        self.parsed.emit()

    def _go_to_problem(self, item: QListWidgetItem) -> None:
        line = int(item.data(Qt.ItemDataRole.UserRole) or 0)
        if line <= 0:
            return
        block = self.editor.document().findBlockByNumber(line - 1)
        cursor = QTextCursor(block)
        cursor.select(QTextCursor.SelectionType.LineUnderCursor)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()
