"""A new user's first hour, replayed: a 6-panel story from a script, generated, lettered, exported
as a PDF and an MP4, in the real window, the way a user drives it (start page buttons, menus,
dialogs found by their visible text, typing with key events).

Each step prints its wall time and what the window said, and leaves a screenshot of the whole
screen (dialogs included) in the output folder. Generation uses the built-in toy-world model on
the CPU (offline). Run under Xvfb at a laptop's size::

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \\
        .venv/bin/python tools/walkthrough.py [OUT]

``OUT`` (default: a new temporary folder) receives ``NN-step.png``, ``story.pdf``, ``story.mp4``
and ``story.storyboard``. ``STEPS=n`` sets the project's denoising steps through Project settings
first, as a user in a hurry would (default: the project's own). Exits non-zero at the first step
that fails, naming it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DRAFT = """\
[Ana] a little girl with curly pink hair and a raincoat
[Tom] her grandfather, an old man with a beard

## The beach
[Ana] running on the sand #ANA: Grandpa, look at the waves!
[Tom] sitting on a bench #TOM: Careful, it is getting windy.
[Ana] and [Tom] strolling by the sea #They walked along the sea.

## Going home
[Tom] walking through the town #TOM: Let's go home before dark.
[Ana] catching snowflakes #ANA: Snow! In summer?
[Ana] and [Tom] by the fire in the living room #They were home at last.
"""
REVISED = """\
[Ana] a small person with long red hair wearing a yellow shirt and a blue skirt
[Tom] a tall person with short white hair and glasses wearing a green shirt and gray trousers

## The beach
[Ana] waving on the left on the beach #ANA: Grandpa, look at the waves!
[Tom] standing on the right on the beach #TOM: Careful, it is getting windy.
[Ana] walking on the left and [Tom] walking on the right, on the beach #They walked along the sea.

## Going home
[Tom] walking in the middle in the city #TOM: Let's go home before dark.
[Ana] standing on the left in the snow #ANA: Snow! In summer?
[Ana] standing on the left and [Tom] standing on the right, in a room #They were home at last.
"""


class Failed(Exception):
    """A step that did not do what a user would expect."""


class Walk:
    def __init__(self, out: Path) -> None:
        from PySide6.QtWidgets import QApplication

        self.out = out
        self.app = QApplication.instance()
        self.window: Any = None
        self.number = 0
        self.record: list[tuple[str, float, str]] = []

    # -- waiting and finding, as a user looks ----------------------------------------------------

    def pump(self, ms: int) -> None:
        from PySide6.QtCore import QThread

        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            self.app.processEvents()
            QThread.msleep(10)

    def wait_for(self, test: Callable[[], object], seconds: float, what: str) -> Any:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            value = test()
            if value:
                return value
            self.pump(50)
        raise Failed(f"after {seconds:.0f} s: {what}")

    @staticmethod
    def visible_text(text: str) -> str:
        return text.replace("&", "").replace("...", "…").strip()

    def button(self, root: Any, text: str) -> Any:
        from PySide6.QtWidgets import QAbstractButton

        for button in root.findChildren(QAbstractButton):
            if button.isVisible() and self.visible_text(button.text()) == text:
                return button
        return None

    def click(self, root: Any, text: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        button = self.wait_for(lambda: self.button(root, text), 10, f'no button "{text}"')
        if not button.isEnabled():
            raise Failed(f'"{text}" is disabled')
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    def menu(self, *path: str) -> None:
        """Trigger File > Export > ... by the menus' visible texts."""
        actions = self.window.menuBar().actions()
        for depth, name in enumerate(path):
            found = next((a for a in actions if self.visible_text(a.text()) == name), None)
            if found is None:
                raise Failed(f"no menu item {' > '.join(path[: depth + 1])}")
            if depth == len(path) - 1:
                if not found.isEnabled():
                    raise Failed(f"{' > '.join(path)} is disabled")
                found.trigger()
                return
            actions = found.menu().actions()

    def with_dialog(self, act: Callable[[], None], answer: Callable[[Any], None]) -> None:
        """``act`` opens a modal dialog; ``answer`` fills and closes it (as the user would)."""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        errors: list[BaseException] = []

        def poll() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None or not dialog.isVisible():
                QTimer.singleShot(50, poll)
                return
            try:
                answer(dialog)
            except BaseException as exc:  # re-raised once the dialog's loop is left
                errors.append(exc)
                dialog.reject()

        QTimer.singleShot(50, poll)
        act()
        if errors:
            raise errors[0]

    def file_dialog(self, dialog: Any, path: Path) -> None:
        """Type the name in a file dialog's name field and press Enter."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QLineEdit

        self.pump(300)
        self.shoot(f"file name {path.name}", dialog=True)
        field = dialog.findChild(QLineEdit, "fileNameEdit")
        if field is None:
            raise Failed(f"the file dialog {dialog.windowTitle()!r} has no name field")
        field.selectAll()
        QTest.keyClicks(field, str(path))
        QTest.keyClick(field, Qt.Key.Key_Return)

    def status(self) -> str:
        line = self.window.statusBar().currentMessage()
        banner = self.window.banner
        said = banner.label.text() if banner.isVisible() else ""
        return " | ".join(part for part in (line, said and f"banner: {said}") if part)

    def shoot(self, name: str, dialog: bool = False) -> None:
        """The whole screen, as the user sees it (dialogs over the window included)."""
        self.pump(150)
        screen = self.app.primaryScreen()
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
        suffix = "-dialog" if dialog and "file name" not in name else ""
        screen.grabWindow(0).save(str(self.out / f"{self.number:02d}-{slug}{suffix}.png"))

    def step(self, title: str, body: Callable[[], str | None]) -> None:
        self.number += 1
        started = time.perf_counter()
        try:
            said = body() or ""
        except Exception as exc:
            self.shoot(f"{title} failed")
            print(f"{self.number:2d}. {title}: FAILED: {exc}", flush=True)
            raise
        took = time.perf_counter() - started
        self.shoot(title)
        self.record.append((title, took, said))
        print(f"{self.number:2d}. {title} [{took:.1f} s] {said}", flush=True)

    # -- the walk ---------------------------------------------------------------------------------

    def start(self) -> str:
        from storyboard.qt.app import open_window

        self.window = open_window(None)
        self.wait_for(self.window.isVisible, 10, "the window did not open")
        self.pump(500)
        page = self.window.start_page
        if not page.isVisible():
            raise Failed("the start page is not shown")
        size = self.window.frameGeometry()
        return f"window {size.width()}x{size.height()}, start page: {page.title.text()}"

    def script(self) -> str:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QLabel, QPlainTextEdit

        said: list[str] = []

        def type_text(dialog: Any, text: str) -> None:
            editor = dialog.findChild(QPlainTextEdit, "script")
            editor.setFocus()
            QTest.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
            QTest.keyClick(editor, Qt.Key.Key_Delete)
            for line in text.splitlines():
                QTest.keyClicks(editor, line)
                QTest.keyClick(editor, Qt.Key.Key_Return)
            create = self.button(dialog, "Create project")
            self.wait_for(lambda: create.isEnabled() or dialog.problems.count(), 10, "no parse")

        def answer(dialog: Any) -> None:
            type_text(dialog, DRAFT)
            unknown = dialog.findChild(QLabel, "unknown-words")
            first = dialog.summary.text()
            words = unknown.text() if unknown is not None and unknown.isVisible() else ""
            said.append(f"draft: {first}; {words or 'no word flagged'}")
            self.shoot("script draft", dialog=True)
            type_text(dialog, REVISED)
            words = unknown.text() if unknown is not None and unknown.isVisible() else ""
            said.append(f"revised: {dialog.summary.text()}; {words or 'no word flagged'}")
            self.shoot("script revised", dialog=True)
            self.click(dialog, "Create project")

        self.with_dialog(lambda: self.click(self.window, "New from story script…"), answer)
        panels = len(self.window.document.project.panels)
        if panels != 6:
            raise Failed(f"the project has {panels} panels, not 6")
        return " / ".join([*said, f"project: {panels} panels; {self.status()}"])

    def steps(self, count: int) -> str:
        from PySide6.QtWidgets import QFormLayout

        def answer(dialog: Any) -> None:
            field = None
            for form in dialog.findChildren(QFormLayout):
                for row in range(form.rowCount()):
                    label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                    if label and label.widget() and label.widget().text() == "Steps":
                        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
            if field is None:
                raise Failed("Project settings has no Steps field")
            field.setValue(count)
            self.shoot("project settings", dialog=True)
            self.click(dialog, "OK")

        self.with_dialog(lambda: self.menu("File", "Project settings…"), answer)
        return f"steps: {self.window.document.project.settings.generation.steps}"

    def generate(self) -> str:
        from storyboard.qt.controller import JobState

        controller = self.window.controller
        self.menu("Generate", "Generate story")
        self.wait_for(lambda: controller.jobs, 10, "Generate story queued nothing")
        self.pump(1500)
        self.shoot("generating")
        done = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
        self.wait_for(lambda: all(j.state in done for j in controller.jobs), 900, "still running")
        states = {j.state.name for j in controller.jobs}
        project = self.window.document.project
        drawn = sum(1 for p in project.panels.values() if p.image)
        if states != {"DONE"} or drawn != 6:
            raise Failed(f"jobs {states}, {drawn} of 6 panels have a picture")
        queue = self.window.docks["Queue"]
        return f"{drawn} panels drawn; queue dock shown: {not queue.visibleRegion().isEmpty()}"

    def letter(self) -> str:
        self.window.workspace.setCurrentIndex(1)  # the "Comic pages" tab
        self.pump(300)
        project = self.window.document.project
        balloons = sum(len(p.balloons) for p in project.panels.values())
        said = [f"{balloons} balloons made with the project"]
        if not project.page_ids:
            self.click(self.window, "Lay out the first page")
            self.pump(500)
        said.append(f"{len(project.page_ids)} page(s)")
        button = self.button(self.window.pages_view, "Letter all panels")
        if button is not None and button.isEnabled():
            self.click(self.window.pages_view, "Letter all panels")
            self.pump(300)
            said.append(f"Letter all panels: {self.status()}")
        return "; ".join(said)

    def export(self, kind: str, item: str, target: Path) -> str:
        def answer(dialog: Any) -> None:
            if dialog.windowTitle().lower().startswith("export comic") and self.button(
                dialog, "OK"
            ):
                self.pump(300)
                self.shoot(f"{kind} options", dialog=True)
                self.with_dialog(
                    lambda: self.click(dialog, "OK"), lambda d: self.file_dialog(d, target)
                )
            else:
                self.file_dialog(dialog, target)

        self.window.statusBar().clearMessage()
        self.with_dialog(lambda: self.menu("File", "Export", item), answer)
        line = self.wait_for(
            lambda: (
                self.window.statusBar().currentMessage().startswith("Exported")
                and self.window.statusBar().currentMessage()
            ),
            600,
            f"no 'Exported' line for the {kind}",
        )
        if not target.is_file() or target.stat().st_size == 0:
            raise Failed(f"{target} was not written")
        return f"{line} ({target.stat().st_size // 1024} KB)"

    def save(self, target: Path) -> str:
        self.with_dialog(lambda: self.menu("File", "Save"), lambda d: self.file_dialog(d, target))
        self.wait_for((target / "project.json").is_file, 10, "not saved")
        return f"{self.status()}; title: {self.window.windowTitle()}"


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="walk-"))
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("STORYBOARD_CONFIG_DIR", str(out / "config"))
    from storyboard.qt.app import application
    from storyboard.qt.errors import setup_logging

    setup_logging()  # as the editor does: library warnings go to the log, not the terminal
    application()
    walk = Walk(out)
    steps = int(os.environ.get("STEPS", "0"))
    try:
        walk.step("open the editor", walk.start)
        walk.step("new from story script", walk.script)
        if steps:
            walk.step(f"project settings: {steps} steps", lambda: walk.steps(steps))
        walk.step("generate the story", walk.generate)
        walk.step("letter the comic pages", walk.letter)
        walk.step(
            "export the comic PDF",
            lambda: walk.export("pdf", "Export comic PDF…", out / "story.pdf"),
        )
        walk.step(
            "export the animatic MP4",
            lambda: walk.export("mp4", "Export animatic…", out / "story.mp4"),
        )
        walk.step("save the project", lambda: walk.save(out / "story.storyboard"))
    except Exception:
        traceback.print_exc()  # which step stopped, and where
        return 1
    finally:
        total = sum(took for _, took, _ in walk.record)
        print(f"total {total:.1f} s over {len(walk.record)} steps; screenshots in {out}")
        if walk.window is not None:
            walk.window.document.undo_stack.setClean()  # the saved copy is in OUT
            walk.window.document._unsaved_results = False
            walk.window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
