"""The window's toolbars and the icons of every action (Lucide, through :mod:`storyboard.qt.icons`).

One table says which icon each action wears, so the toolbar, the menus, the timeline's and the
canvas's tools show the same picture for the same thing. Toolbars show icons only; the text and
the shortcut are in the tooltip and in the menus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolBar, QToolButton, QVBoxLayout

from storyboard.qt.icons import icon

if TYPE_CHECKING:
    from storyboard.qt.main_window import MainWindow

ICON_SIZE = QSize(20, 20)


def with_tooltip(action: QAction) -> QAction:
    """The tooltip says what the action does and its shortcut (the icon alone says neither)."""
    text = action.text().replace("&", "").rstrip("…")
    keys = action.shortcut().toString(action.shortcut().SequenceFormat.NativeText)
    action.setToolTip(f"{text} ({keys})" if keys else text)
    return action


def _wear(pairs: list[tuple[QAction, str]]) -> None:
    for action, name in pairs:
        action.setIcon(icon(name))
        with_tooltip(action)


def install(window: MainWindow) -> None:
    """Icons on every action, the main toolbar at the window's top and the timeline's tools
    beside its cards (in ``window.timeline_tools``, which the layout left empty for them)."""
    decorate(window)
    window.addToolBar(main_toolbar(window))
    tools = QVBoxLayout(window.timeline_tools)
    tools.setContentsMargins(0, 0, 0, 0)
    tools.addWidget(timeline_toolbar(window))


def decorate(window: MainWindow) -> None:
    """Give every action of the window its icon and tooltip."""
    panels, generation, exports = window.panel_actions, window.generation, window.exports
    menus = window.menus
    _wear(
        [
            (menus.new, "file-plus"),
            (menus.open, "folder-open"),
            (menus.save, "save"),
            (menus.from_script, "scroll-text"),
            (menus.undo, "undo-2"),
            (menus.redo, "redo-2"),
            (panels.new_after, "square-plus"),
            (panels.new_before, "copy-plus"),
            (panels.duplicate, "copy"),
            (panels.delete, "trash-2"),
            (panels.previous, "chevron-left"),
            (panels.next, "chevron-right"),
            (panels.move_left, "arrow-left"),
            (panels.move_right, "arrow-right"),
            (panels.zoom_in, "zoom-in"),
            (panels.zoom_out, "zoom-out"),
            (generation.story, "sparkles"),
            (generation.scene, "sparkles"),
            (generation.selected, "wand-sparkles"),
            (exports.comic, "book-open"),
            (exports.sheets, "file-text"),
            (exports.video, "clapperboard"),
            (window.player.play_action, "play"),
            (window.player.step_back_action, "skip-back"),
            (window.player.step_forward_action, "skip-forward"),
        ]
    )
    studio = window.studio
    tool_icons = ("pen-line", "pencil", "eraser", "square-user", "message-square")
    _wear(list(zip(studio.tool_actions.values(), tool_icons, strict=True)))
    _wear(
        [
            (studio.toggles["onion"], "layers"),
            (studio.toggles["thirds"], "grid-3x3"),
            (studio.toggles["safe_area"], "scan"),
            (studio.generate_action, "sparkles"),
            (studio.edit_action, "external-link"),
            (studio.paste_action, "clipboard-paste"),
        ]
    )
    for bar in (studio.tools, studio.actions_bar):
        bar.setIconSize(ICON_SIZE)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    generate = studio.actions_bar.widgetForAction(studio.generate_action)
    if isinstance(generate, QToolButton):  # the one action an artist looks for: icon and word
        generate.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)


def main_toolbar(window: MainWindow) -> QToolBar:
    """File, undo, panel, generate, play and export actions, left to right."""
    bar = QToolBar("Main")
    bar.setObjectName("main-toolbar")
    bar.setIconSize(ICON_SIZE)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    bar.setMovable(False)
    panels, generation, exports = window.panel_actions, window.generation, window.exports
    menus = window.menus
    groups = [
        [menus.new, menus.from_script, menus.open, menus.save],
        [menus.undo, menus.redo],
        [panels.new_after, panels.duplicate, panels.delete],
        [generation.story, generation.selected],
        [window.player.play_action],
        [exports.comic, exports.video],
    ]
    for index, group in enumerate(groups):
        if index:
            bar.addSeparator()
        bar.addActions(group)
    return bar


def timeline_toolbar(window: MainWindow) -> QToolBar:
    """Beside the timeline: add, duplicate, delete, reorder and zoom the cards."""
    panels = window.panel_actions
    bar = QToolBar("Timeline")
    bar.setObjectName("timeline-tools")
    bar.setOrientation(Qt.Orientation.Vertical)
    bar.setIconSize(QSize(16, 16))
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    bar.addActions([panels.new_after, panels.duplicate, panels.delete])
    bar.addSeparator()
    bar.addActions([panels.move_left, panels.move_right, panels.zoom_in, panels.zoom_out])
    return bar
