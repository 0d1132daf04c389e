"""The story script dialog parses on a worker thread: a long script never freezes the editor,
and what it shows (and creates) is always the result of the text on screen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from storyboard.qt.widgets.script_dialog import ScriptDialog
from tests.qt.conftest import ROOT

STORY = (ROOT / "resources" / "scripts" / "lighthouse.txt").read_text()


def long_script(speeches: int = 30_000) -> str:
    """A screenplay of one panel with many speeches: slow to parse, quick to show."""
    speech = "".join(f"\nNAME{i}\nHello there.\n" for i in range(speeches))
    return f"Title: Talk\n\nINT. ROOM\n\nAction.\n{speech}"


def dialog_for(qtbot: QtBot) -> ScriptDialog:
    dialog = ScriptDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.slow
def test_parsing_a_long_script_leaves_the_editor_responsive(
    app: QApplication, qtbot: QtBot
) -> None:
    dialog = dialog_for(qtbot)
    shown: list[bool] = []
    dialog.parsed.connect(lambda: shown.append(True))

    dialog.set_text(long_script())
    # The window did not wait for the parse: nothing is shown yet, and nothing can be created ...
    assert not shown and dialog.tree.topLevelItemCount() == 0
    assert not dialog.create_button.isEnabled()
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(dialog.parsed, timeout=120_000):
        pass
    timer.stop()

    # ... and it kept handling events while the parse ran (a parse on the window's thread would
    # let no timer fire before its result). Counted, not timed: a busy machine is slow, not wrong.
    assert len(ticks) >= 3, ticks
    assert dialog.tree.topLevelItemCount() == 1
    assert "1 panels" in dialog.summary.text()
    assert "and 29990 more" in dialog.summary.text()  # not 30,000 names in one label


def test_a_new_text_supersedes_the_parse_still_running(app: QApplication, qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot)
    dialog.set_text(long_script())
    with qtbot.waitSignal(dialog.parsed, timeout=120_000):
        dialog.set_text(STORY)
    assert dialog.tree.topLevelItemCount() == 3  # the story, not the long screenplay
    dialog.wait()  # the long parse finishes, and its result arrives late ...
    app.processEvents()
    assert dialog.tree.topLevelItemCount() == 3  # ... and is dropped
    project = dialog.project()
    assert project is not None and len(project.panels) == 12
    assert dialog.create_button.isEnabled()


def test_typing_disables_create_until_the_new_text_is_parsed(
    app: QApplication, qtbot: QtBot
) -> None:
    dialog = dialog_for(qtbot)
    with qtbot.waitSignal(dialog.parsed):
        dialog.set_text(STORY)
    assert dialog.create_button.isEnabled()
    with qtbot.waitSignal(dialog.parsed, timeout=10_000):
        dialog.editor.moveCursor(dialog.editor.textCursor().MoveOperation.End)
        qtbot.keyClicks(dialog.editor, "[Nobody] waves")
        assert not dialog.create_button.isEnabled()  # the result shown is of the old text
        assert dialog.project() is None
    assert dialog.problems.count() == 1  # [Nobody] is not a character of the story
    assert not dialog.create_button.isEnabled()


def test_opening_a_script_file_shows_its_kind(
    app: QApplication, qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot)
    story = tmp_path / "story.txt"
    story.write_text(STORY, encoding="utf-8")
    with qtbot.waitSignal(dialog.parsed):
        dialog.load_file(story)
    assert dialog.kind.currentText() == "StoryDiffusion"
    assert dialog.tree.topLevelItemCount() == 3

    screenplay = tmp_path / "plain.fountain"
    screenplay.write_text("A man walks.\n", encoding="utf-8")
    with qtbot.waitSignal(dialog.parsed):
        dialog.load_file(screenplay)
    assert dialog.kind.currentText() == "Fountain"

    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"\xff\xfe[Bob] a man")
    dialog.load_file(broken)
    assert "not UTF-8" in dialog.problems.item(0).text()


def test_opening_a_final_draft_file_shows_its_scenes_and_problems(
    app: QApplication, qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot)
    with qtbot.waitSignal(dialog.parsed):
        dialog.load_file(ROOT / "resources" / "scripts" / "the_last_train.fdx")
    assert dialog.kind.currentText() == "Final Draft"
    assert dialog.tree.topLevelItemCount() == 3
    assert dialog.create_button.isEnabled()

    orphan = tmp_path / "orphan.fdx"
    orphan.write_text(
        '<FinalDraft><Content>\n<Paragraph Type="Action"><Text>Rain.</Text></Paragraph>\n'
        '<Paragraph Type="Dialogue"><Text>Who?</Text></Paragraph>\n</Content></FinalDraft>',
        encoding="utf-8",
    )
    with qtbot.waitSignal(dialog.parsed):
        dialog.load_file(orphan)
    assert dialog.problems.item(0).text().startswith("line 3: paragraph 2: Dialogue without")
    assert not dialog.create_button.isEnabled()
    dialog._go_to_problem(dialog.problems.item(0))  # clicking it selects that line of the XML
    assert dialog.editor.textCursor().selectedText().startswith('<Paragraph Type="Dialogue">')

    bomb = tmp_path / "bomb.fdx"
    bomb.write_text('<!DOCTYPE x [<!ENTITY a "b">]><FinalDraft/>', encoding="utf-8")
    with qtbot.waitSignal(dialog.parsed):
        dialog.load_file(bomb)
    assert "declares a DOCTYPE" in dialog.summary.text()
    assert not dialog.create_button.isEnabled()
