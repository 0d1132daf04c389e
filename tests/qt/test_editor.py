"""The editor window driven like an artist would: real widgets, keyboard, undo, save, recovery."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QApplication, QMessageBox, QPlainTextEdit, QSpinBox
from pytestqt.qtbot import QtBot

from storyboard.core.jobs import identity_cache
from storyboard.core.numbering import panel_numbers
from storyboard.core.ownership import LOCK_FILE
from storyboard.core.persistence import load_project
from storyboard.core.settings import AppSettings
from storyboard.export.fonts import UI_FAMILY
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from storyboard.qt.models.timeline_model import Role
from storyboard.qt.shortcuts import ShortcutsDialog, shortcut_rows
from storyboard.qt.widgets.script_dialog import ScriptDialog
from tests.qt.conftest import ROOT

STORY = (ROOT / "resources" / "scripts" / "lighthouse.txt").read_text()


def order(window: MainWindow) -> list[str]:
    return [window.timeline_model.data(window.timeline_model.index(r), Role.NUMBER)
            for r in range(window.timeline_model.rowCount())]  # fmt: skip


def test_window_shows_the_sample_story(window: MainWindow, app: QApplication) -> None:
    assert window.timeline_model.rowCount() == 12
    assert order(window)[:5] == ["1A", "1B", "1C", "1D", "2A"]
    assert window.scenes.model.rowCount() == 3
    assert window.inspector.header.text().startswith("<b>Panel 1A")
    assert window.inspector.prompt.toPlainText().startswith("a tall person with long blond hair")
    assert "sample" in window.windowTitle()
    assert QFontInfo(app.font()).family() == UI_FAMILY  # real glyphs, not empty boxes


def test_window_fits_a_laptop_screen(window: MainWindow) -> None:
    """Every tool row and dock gives way (» menus, scrolling) so the window fits 1366x768 less
    a taskbar and a title bar, and it opens no larger than the screen's free area."""
    smallest = window.minimumSizeHint()
    assert smallest.width() <= 1366 - 16 and smallest.height() <= 768 - 40 - 40
    screen = window.screen()
    assert screen is not None
    assert screen.availableGeometry().contains(window.frameGeometry().topLeft())
    assert window.width() <= screen.availableGeometry().width()
    assert window.height() <= screen.availableGeometry().height()
    assert window.characters.description.width() > window.characters.width() * 0.7


def test_the_window_layout_is_kept_in_the_config_folder(
    app: QApplication, sample_copy: Path, tmp_path: Path
) -> None:
    first = MainWindow(AppSettings(), Document.open(sample_copy)[0])
    first.show()
    first.docks["Scenes"].close()
    first.close()
    assert (tmp_path / "config" / "window.ini").is_file()  # the test's own folder, not ~/.config
    again = MainWindow(AppSettings(), Document.open(sample_copy)[0])
    again.show()
    try:
        assert not again.docks["Scenes"].isVisible()
        assert again.docks["Characters"].toggleViewAction().isChecked()  # tabbed with Scenes
    finally:
        again.close()


def test_the_inspector_shows_what_each_characters_box_is_drawn_from(window: MainWindow) -> None:
    project = window.document.project
    number_of = panel_numbers(project)
    beach = next(pid for pid, n in number_of.items() if n == "2A")  # Mia and Leo, a box each
    window.timeline.select_panels([beach])
    shown = window.inspector.box_prompts
    assert window.inspector.form.isRowVisible(shown)
    mia, leo = (c for c in project.characters.values() if c.name in ("Mia", "Leo"))
    lines = shown.text().split("<br>")
    assert lines[0].startswith("<b>Mia</b>: " + mia.description.strip())
    assert lines[1].startswith("<b>Leo</b>: " + leo.description.strip())
    assert leo.description.strip() not in lines[0] and mia.description.strip() not in lines[1]
    window.timeline.select_panels([next(pid for pid, n in number_of.items() if n == "1A")])
    assert not window.inspector.form.isRowVisible(shown)  # one character: nothing to keep apart


def test_typing_dialogue_is_one_undo_step(window: MainWindow, qtbot: QtBot) -> None:
    window.timeline.select_panels([window.timeline_model.panel_ids()[1]])
    edit = window.inspector.dialogue
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "MIA: Almost there.")
    panel = window.document.project.panels[window.selection.current or ""]
    assert panel.dialogue == "MIA: Almost there."
    assert window.document.undo_stack.count() == 1
    assert window.menus.undo.text() == "&Undo Edit dialogue"
    assert window.isWindowModified()
    window.document.undo_stack.undo()
    assert panel.dialogue == "MIA: Leo! Over here!"
    assert edit.toPlainText() == "MIA: Leo! Over here!"  # the field follows the undo
    assert not window.isWindowModified()


def test_inspector_fields_edit_the_panel(window: MainWindow) -> None:
    panel_id = window.timeline_model.panel_ids()[2]
    window.timeline.select_panels([panel_id])
    inspector = window.inspector
    duration = inspector.findChild(QSpinBox, "duration")
    assert duration is not None
    duration.setValue(96)
    leo = window.document.project.character_named("Leo")
    assert leo is not None
    box = inspector.findChild(QPlainTextEdit, "notes")
    assert box is not None
    inspector.characters_box.findChildren(object)  # the checkboxes exist
    checkbox = next(
        c for c in inspector.characters_box.children() if getattr(c, "text", lambda: "")() == "Leo"
    )
    checkbox.setChecked(True)  # type: ignore[attr-defined]
    panel = window.document.project.panels[panel_id]
    assert panel.duration == 96
    assert leo.id in panel.character_ids
    assert "4.00 s" in inspector.seconds.text()
    labels = [window.document.undo_stack.text(i) for i in range(window.document.undo_stack.count())]
    assert labels == ["Set duration", "Add Leo"]


def test_drag_reorders_across_scenes_and_undoes(window: MainWindow) -> None:
    model = window.timeline_model
    ids = model.panel_ids()
    before = copy.deepcopy(window.document.project)
    mime = model.mimeData([model.index(0), model.index(1)])  # 1A and 1B
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 6, 0, model.index(-1))  # before 2C
    project = window.document.project
    scenes = project.ordered_scenes()
    assert scenes[0].panel_ids == ids[2:4]
    assert scenes[1].panel_ids == [ids[4], ids[5], ids[0], ids[1], ids[6], ids[7]]
    assert order(window)[:4] == ["1A", "1B", "2A", "2B"]  # renumbered
    assert window.document.undo_stack.text(0) == "Move 2 panels"
    window.document.undo_stack.undo()
    assert window.document.project == before


def test_panel_shortcuts_and_full_history_undo_redo(window: MainWindow, qtbot: QtBot) -> None:
    original = copy.deepcopy(window.document.project)
    window.timeline.setFocus()
    window.timeline.select_panels([window.timeline_model.panel_ids()[0]])
    qtbot.keyClick(window.timeline, Qt.Key.Key_N)  # new panel after 1A
    assert window.timeline_model.rowCount() == 13
    assert panel_numbers(window.document.project)[window.selection.current or ""] == "1B"
    qtbot.keyClick(window.timeline, Qt.Key.Key_D)  # duplicate it
    qtbot.keyClick(window.timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    window.panel_actions.delete.trigger()
    window.characters.list.setCurrentRow(0)
    window.characters.name.setText("Amelia")
    window.characters.name.editingFinished.emit()
    assert window.document.project.panels[window.timeline_model.panel_ids()[2]].prompt.startswith(
        "[Amelia]"
    )
    stack = window.document.undo_stack
    final = copy.deepcopy(window.document.project)
    assert stack.count() == 5
    while stack.canUndo():
        stack.undo()
    assert window.document.project == original
    while stack.canRedo():
        stack.redo()
    assert window.document.project == final
    assert window.timeline_model.rowCount() == 13


def test_shared_tokens_set_a_characters_sampling_rates_undoably(window: MainWindow) -> None:
    library = window.characters
    library.list.setCurrentRow(0)
    character = library.current()
    assert character is not None and library.shared.value() == 100  # the sample's rate 1.0
    library.shared.setValue(50)
    identity = character.identity
    assert (identity.sample_rate_low_res, identity.sample_rate_high_res) == (0.5, 0.5)
    assert window.document.undo_stack.undoText() == "Set identity settings"
    window.document.undo_stack.undo()
    restored = library.current()
    assert restored is not None and restored.identity.sample_rate_low_res == 1.0
    assert library.shared.value() == 100
    # another identity edit leaves rates set apart in the file (low-res 1.0, high-res 0.3) alone
    restored.identity.sample_rate_high_res = 0.3
    library.identity_panels.setValue(library.identity_panels.value() + 1)
    edited = library.current()
    assert edited is not None
    assert (edited.identity.sample_rate_low_res, edited.identity.sample_rate_high_res) == (1.0, 0.3)


def test_save_reopen_compare(window: MainWindow, tmp_path: Path) -> None:
    window.document.project.settings.title = "The Lost Hat, cut 2"
    window.panel_actions.new_panel(after=True)
    target = tmp_path / "cut2"
    assert window.files.save_to(target)
    saved = tmp_path / "cut2.storyboard"
    assert window.document.path == saved
    assert not window.isWindowModified()
    assert load_project(saved).project == window.document.project
    reopened, _ = Document.open(saved)
    assert reopened.project == window.document.project
    reopened.close_session()


def test_recovery_after_a_crash_is_offered_and_restores(
    app: QApplication, sample_copy: Path, answer: list[QMessageBox.StandardButton]
) -> None:
    document, _ = Document.open(sample_copy)
    crashed = MainWindow(AppSettings(), document)
    crashed.timeline.select_panels([crashed.timeline_model.panel_ids()[0]])
    crashed.panel_actions.new_panel(after=True)
    crashed.files.autosave_now()
    edited = copy.deepcopy(crashed.document.project)
    # the process dies: no clean close; its lock names a process that no longer exists
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = {"pid": dead.pid, "host": socket.gethostname()}
    (sample_copy / LOCK_FILE).write_text(json.dumps(lock))
    crashed.files.autosave_timer.stop()

    answer.append(QMessageBox.StandardButton.Yes)  # "Recover unsaved work?"
    fresh = MainWindow(AppSettings())
    assert fresh.files.open_path(sample_copy)
    assert fresh.document.project == edited
    assert fresh.isWindowModified()  # recovered work still needs a save
    assert load_project(sample_copy).project != edited  # the saved file was not touched
    for main in (fresh, crashed):
        main.document.undo_stack.setClean()
        main.document._unsaved_results = False
        main.close()


def test_closing_with_unsaved_changes_asks(
    window: MainWindow, answer: list[QMessageBox.StandardButton]
) -> None:
    window.panel_actions.new_panel(after=True)
    answer.append(QMessageBox.StandardButton.Cancel)
    assert not window.close()
    assert window.isVisible()
    answer.append(QMessageBox.StandardButton.Discard)
    assert window.close()


def test_story_script_dialog_builds_a_project(app: QApplication, qtbot: QtBot) -> None:
    dialog = ScriptDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.parsed):  # parsed on a worker thread
        dialog.set_text(STORY)
    assert dialog.tree.topLevelItemCount() == 3
    assert dialog.tree.topLevelItem(0).childCount() == 4  # type: ignore[union-attr]
    assert dialog.problems.count() == 0
    assert dialog.create_button.isEnabled()
    project = dialog.project()
    assert project is not None and len(project.panels) == 12

    with qtbot.waitSignal(dialog.parsed):
        dialog.set_text("[Ann] a painter\n\n[Ann] paints\n[Bob] watches\n")
    assert dialog.problems.count() == 1
    assert dialog.problems.item(0).text().startswith("line 4:")
    assert not dialog.create_button.isEnabled()
    dialog._go_to_problem(dialog.problems.item(0))
    assert dialog.editor.textCursor().selectedText() == "[Bob] watches"


def test_shortcuts_list_comes_from_the_actions(window: MainWindow, qtbot: QtBot) -> None:
    rows = dict(shortcut_rows(window.findChildren(type(window.panel_actions.new_after))))
    assert rows["New panel after"] == "N"
    assert rows["Duplicate panel"] == "D"
    dialog = ShortcutsDialog(window, window.findChildren(type(window.panel_actions.new_after)))
    qtbot.addWidget(dialog)
    assert dialog.findChild(object, "shortcuts") is not None


def test_timeline_zoom_and_scene_click(window: MainWindow, qtbot: QtBot) -> None:
    width = window.timeline.card_delegate.card_width
    window.panel_actions.zoom_in.trigger()
    assert window.timeline.card_delegate.card_width == width + 40
    scene_view = window.scenes.view
    rect = scene_view.visualRect(window.scenes.model.index(2))
    qtbot.mouseClick(scene_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel_numbers(window.document.project)[window.selection.current or ""] == "3A"
    assert isinstance(rect.center(), QPoint)


def test_window_starts_without_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from storyboard.qt.app import application, open_window\n"
        "app = application()\n"
        "w = open_window(Path(sys.argv[1]))\n"
        "app.processEvents()\n"
        "assert w.isVisible()\n"
        "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules)\n"
        "print('heavy', heavy)\n"
        "w.close()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STORYBOARD_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "projects" / "sample.storyboard")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "heavy []" in result.stdout


def test_accepting_a_candidate_is_undoable_and_autosaved(window: MainWindow) -> None:
    from storyboard.core.commands import AddCandidate
    from storyboard.core.model import Candidate
    from tests.conftest import png_bytes

    document = window.document
    panel_id = window.timeline_model.panel_ids()[0]
    window.timeline.select_panels([panel_id])
    first, second = (document.assets.put(png_bytes(c)) for c in ((9, 9, 9), (200, 10, 10)))
    for asset in (first, second):
        document.record_result(AddCandidate(panel_id, Candidate(asset=asset, seed=1)))
    assert window.isWindowModified()  # generated images are kept, and need saving
    assert document.undo_stack.count() == 0  # but generation is not an undoable edit
    candidates = window.candidates.candidates
    assert candidates.count() == 2
    candidates.setCurrentRow(0)  # newest first
    assert window.preview.shown_asset() == second  # looking at it shows it large
    window.candidates.accept_current_candidate()
    assert document.project.panels[panel_id].image == second
    assert document.undo_stack.text(0) == "Accept image"
    assert document.autosave is not None and document.autosave.recovery.is_file()
    document.undo_stack.undo()
    assert document.project.panels[panel_id].image is None
    assert len(document.project.panels[panel_id].candidates) == 2  # undo never drops images


def test_dialogue_becomes_a_balloon_in_one_click(window: MainWindow, qtbot: QtBot) -> None:
    panel_id = window.timeline_model.panel_ids()[1]  # "MIA: Leo! Over here!"
    window.timeline.select_panels([panel_id])
    qtbot.mouseClick(window.inspector.make_balloon, Qt.MouseButton.LeftButton)
    balloons = window.document.project.panels[panel_id].balloons
    assert balloons[-1].text == "Leo! Over here!"
    assert window.document.undo_stack.text(0) == "Balloon from dialogue"


def saved_bank(bundle: Path) -> Path:
    """A (small) identity bank file in the project's cache."""
    bank = identity_cache(bundle) / "mara-0123.safetensors"
    bank.parent.mkdir(parents=True)
    bank.write_bytes(b"\0" * 4096)
    return bank


def test_opening_a_project_warms_its_saved_identity_banks(
    app: QApplication, sample_copy: Path
) -> None:
    """A regenerate after a restart then finds its characters' banks in the file cache."""
    bank = saved_bank(sample_copy)
    window = MainWindow(AppSettings())
    assert window.bank_readahead.warmup is None
    assert window.files.open_path(sample_copy)
    warmup = window.bank_readahead.warmup
    assert warmup is not None and warmup.wait(30)
    assert warmup.paths == [bank] and warmup.finished
    window.files.new_project()  # no banks: nothing warms, the old warm-up is left to end
    window.document.undo_stack.setClean()
    window.close()


def test_the_bank_read_ahead_waits_while_a_job_runs(app: QApplication, sample_copy: Path) -> None:
    """Reading ahead beside a job shares the disk with it (the model's files, the bank being
    streamed): a project opened while the queue is busy reads its banks once the queue is idle,
    and a read-ahead under way stops when a job starts and runs again afterwards."""
    saved_bank(sample_copy)
    window = MainWindow(AppSettings())
    window.controller.busy.emit(True)  # as the controller does when a job starts
    assert window.files.open_path(sample_copy)
    assert window.bank_readahead.warmup is None  # nothing read beside the job
    window.controller.busy.emit(False)  # the queue is idle
    warmup = window.bank_readahead.warmup
    assert warmup is not None and warmup.wait(30) and warmup.finished

    warmup.finished = False  # as if the next job's start stopped it half-way
    window.controller.busy.emit(True)
    window.controller.busy.emit(False)
    again = window.bank_readahead.warmup
    assert again is not warmup and again is not None and again.wait(30) and again.finished
    window.controller.busy.emit(True)
    assert again.cancelled  # (a read-ahead under way would stop at its next chunk)
    window.controller.busy.emit(False)  # all read: nothing to read again
    assert window.bank_readahead.warmup is again
    window.document.undo_stack.setClean()
    window.close()


def test_the_window_shows_the_application_icon(window: MainWindow) -> None:
    sizes = window.windowIcon().availableSizes()
    assert QSize(16, 16) in sizes and QSize(256, 256) in sizes
    assert QApplication.desktopFileName() == "storyboard-editor"
