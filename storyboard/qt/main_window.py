"""The main window: workspace layout, docks and the open document's wiring.

Which project is open and how it reaches the disk (new, open, save, autosave, close) is
``project_files.py``'s, through the window's ``files``; the menu bar is ``window_menus.py``'s
(the window's ``menus``), the toolbars ``toolbar.py``'s.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabBar,
    QTabWidget,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import Change
from storyboard.core.resources import sample_project
from storyboard.core.settings import AppSettings, save_settings
from storyboard.qt import toolbar, window_state
from storyboard.qt.aspect_notice import AspectNotice
from storyboard.qt.bank_readahead import BankReadahead
from storyboard.qt.conform_action import ConformAction
from storyboard.qt.controller import GenerationController
from storyboard.qt.document import Document
from storyboard.qt.errors import ErrorBanner
from storyboard.qt.exports import ExportActions
from storyboard.qt.follow_edits import SelectionFollowsHistory
from storyboard.qt.generation_actions import GenerationActions
from storyboard.qt.held_results import HeldResults
from storyboard.qt.models.timeline_model import TimelineModel
from storyboard.qt.openraster_actions import OpenRasterActions
from storyboard.qt.ownership import ReadOnlyBanner
from storyboard.qt.panel_actions import PanelActions
from storyboard.qt.project_files import ProjectFiles, empty_project
from storyboard.qt.selection import Selection
from storyboard.qt.theme import apply_theme
from storyboard.qt.thumbnails import ThumbnailCache
from storyboard.qt.wheel_guard import guard_wheel
from storyboard.qt.widgets.balloons import BalloonEditor
from storyboard.qt.widgets.candidates import CandidateStrip
from storyboard.qt.widgets.canvas import PanelCanvas
from storyboard.qt.widgets.canvas_tools import CanvasStudio
from storyboard.qt.widgets.characters import CharacterLibrary
from storyboard.qt.widgets.empty_state import EmptyState, StartPage, WithEmptyState
from storyboard.qt.widgets.inspector import PanelInspector
from storyboard.qt.widgets.pages_view import PagesView
from storyboard.qt.widgets.player import AnimaticPlayer
from storyboard.qt.widgets.project_settings import ProjectSettingsDialog
from storyboard.qt.widgets.queue import QueuePanel, RaiseOnNewJob
from storyboard.qt.widgets.scenes import ScenesPanel
from storyboard.qt.widgets.settings_dialog import SettingsDialog
from storyboard.qt.widgets.timeline import TimelineView
from storyboard.qt.window_menus import WindowMenus

log = logging.getLogger(__name__)
APP_TITLE = "Storyboard"
TIMELINE_CARD_WIDTH = 160  # seven cards across a 1366 px screen


def scrolled(widget: QWidget) -> QScrollArea:
    """A dock's form that may scroll, so that its height does not set the window's least one."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings,
        document: Document | None = None,
        controller: GenerationController | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.controller = controller or GenerationController()
        self.document = document or Document(empty_project())
        self.bank_readahead = BankReadahead(self.controller)
        self.selection = Selection()
        self.thumbnails = ThumbnailCache(self.document.bundle)
        self.banner = ErrorBanner()
        self.aspect_notice = AspectNotice(self.banner)
        self.files = ProjectFiles(self)  # the menus and the start page call it
        self.read_only_banner = ReadOnlyBanner()
        self.read_only_banner.take_over.connect(self.files.take_over)
        self.timeline_model = TimelineModel(self.document, self)
        self.timeline = TimelineView(self.timeline_model, self.selection, self.thumbnails)
        self.preview = PanelCanvas(self.document, self.selection)
        self.preview.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.pages = PagesView(self.document)
        self.inspector = PanelInspector(self.document, self.selection)
        self.candidates = CandidateStrip(self.document, self.selection)
        self.candidates.preview_requested.connect(self.preview.show_candidate)
        self.inspector.model_override = lambda: self.settings.model_source
        self.scenes = ScenesPanel(self.document)
        self.scenes.scene_activated.connect(self._scene_activated)
        self.characters = CharacterLibrary(self.document)
        self.characters.model_override = lambda: self.settings.model_source
        self.characters.lora_folders = lambda: self.settings.lora_folders
        self.characters.add_lora_folder = self.add_lora_folder
        self.history = QUndoView(self.document.undo_stack)
        self.history.setEmptyLabel("Opened project")
        self.panel_actions = PanelActions(self.document, self.selection, self.timeline, self)
        self.follow = SelectionFollowsHistory(self.document, self.selection, self.timeline, self)
        self.queue = QueuePanel(self.controller)
        self.balloons = BalloonEditor(self.document, self.selection)
        self.player = AnimaticPlayer(self.document, self.selection)
        self.player.panel_reached.connect(lambda pid: self.timeline.select_panels([pid]))
        self.generation = GenerationActions(
            self, self.controller, lambda: self.document, self.selection, lambda: self.settings
        )
        self.characters.identity_requested.connect(self.generation.generate_identity)
        self.held = HeldResults(self, self.controller, self.banner)
        self.studio = CanvasStudio(
            self.preview, lambda: self.settings, self.generation.generate_panel
        )
        self.exports = ExportActions(self, lambda: self.document, lambda: self.settings)
        for view in (self.inspector, self.balloons, self.pages):  # what a lettering did
            view.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.exports.finished.connect(
            lambda path: self.statusBar().showMessage(f"Exported {path}", 6000)
        )
        self.openraster = OpenRasterActions(
            self, lambda: self.document, self.selection, self.exports
        )
        self.openraster.imported.connect(self._openraster_imported)
        self.exports.left_out.connect(self.banner.show_message)
        self.conform_action = ConformAction(self, lambda: self.document)
        self.exports.warned.connect(
            lambda path, warnings: self.banner.show_message(
                f"Exported {path}, with warnings.", "\n".join(warnings)
            )
        )
        self._layout()
        self.menus = WindowMenus(self)
        toolbar.install(self)
        guard_wheel(self)  # scrolling a dock never changes the field under the pointer
        self._connect_document()
        window_state.restore(self)
        self._select_first_panel()
        self.aspect_notice.check(self.document)

    # -- layout -----------------------------------------------------------------------------------

    def _layout(self) -> None:
        """The timeline spans the window's foot; above it the scenes and characters (left), the
        panel with its candidates strip under it (centre) and the inspector (right)."""
        self.workspace = QTabWidget()
        self.workspace.setObjectName("workspace")
        panel_tab = QSplitter(Qt.Orientation.Vertical)
        panel_tab.setChildrenCollapsible(False)
        panel_tab.addWidget(self.studio)
        panel_tab.addWidget(self.candidates)
        panel_tab.setStretchFactor(0, 1)
        self.start_page = StartPage(
            lambda: self.panel_actions.new_panel(after=True),
            self.files.new_from_script,
            self.files.open_dialog,
            self.files.open_sample if sample_project() is not None else None,
            self.files.open_path,
        )
        self.panel_view = WithEmptyState(panel_tab, self.start_page)
        self.pages_empty = EmptyState(
            "pages-empty",
            "No comic pages yet",
            "Lay the story's panels out on comic pages: each page takes the next panels in "
            "story order, and you can change its template, split frames and drag panels in.",
            [("book-open", "Lay out the first page", self.pages.append_page)],
        )
        self.pages_view = WithEmptyState(self.pages, self.pages_empty)
        self.workspace.addTab(self.panel_view, "Panel")
        self.workspace.addTab(self.pages_view, "Comic pages")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.read_only_banner)
        layout.addWidget(self.banner)
        layout.addWidget(self.workspace)
        self.setCentralWidget(central)
        self.timeline.set_card_width(TIMELINE_CARD_WIDTH)
        strip = QWidget()
        strip_layout = QHBoxLayout(strip)
        strip_layout.setContentsMargins(0, 0, 0, 0)
        strip_layout.setSpacing(0)
        self.timeline_tools = QWidget()  # filled by toolbar.install, once the actions exist
        strip_layout.addWidget(self.timeline_tools)
        strip_layout.addWidget(self.timeline, 1)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.docks: dict[str, QDockWidget] = {}
        for name, widget, area in (
            ("Scenes", self.scenes, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Characters", self.characters, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Panel", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea),
            ("History", self.history, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Queue", self.queue, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Balloons", scrolled(self.balloons), Qt.DockWidgetArea.RightDockWidgetArea),
            ("Player", self.player, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Timeline", strip, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = QDockWidget(name, self)
            dock.setObjectName(f"dock-{name.lower()}")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["Scenes"], self.docks["Characters"])
        self.docks["Scenes"].raise_()
        self.tabifyDockWidget(self.docks["Panel"], self.docks["History"])
        self.tabifyDockWidget(self.docks["Panel"], self.docks["Balloons"])
        self.docks["Panel"].raise_()
        self.tabifyDockWidget(self.docks["Queue"], self.docks["Player"])
        self.docks["Player"].raise_()
        RaiseOnNewJob(self.docks["Queue"], self.controller)  # a started job shows its progress
        self.default_layout()

    def default_layout(self, screen: QSize | None = None) -> None:
        """The first window's size and dock widths on this screen (or a screen of ``screen``'s
        free size: the layout tests and the screenshots)."""
        form = self.inspector.widget()  # the inspector's form fits without side-scrolling
        right = (form.minimumSizeHint().width() if form else 0) + 24  # and its scroll bar
        left = self.characters.form.minimumSizeHint().width() + 24  # the character's form too
        window_state.fit_screen(
            self, self.docks["Scenes"], self.docks["Panel"], right, screen, left_min=left
        )
        QTimer.singleShot(0, self._share_right_column)
        QTimer.singleShot(0, self.hide_stale_tab_bars)

    def _share_right_column(self) -> None:
        """The inspector's first section (prompt, characters, dialogue) whole above the player,
        which gets the rest of the column: on a laptop's screen it plays smaller (at most three
        fifths of the column go to the inspector)."""
        panel, player = self.docks["Panel"], self.docks["Player"]
        column = panel.height() + player.height()
        chrome = panel.height() - self.inspector.viewport().height()  # title bar and tabs
        story = self.inspector.story
        bottom = story.geometry().bottom()  # in the inspector's form
        wanted = min(bottom + chrome + 8, column * 3 // 5)
        if column > 0 and wanted > panel.height():
            self.resizeDocks([panel, player], [wanted, column - wanted], Qt.Orientation.Vertical)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        QTimer.singleShot(0, self.hide_stale_tab_bars)

    def hide_stale_tab_bars(self) -> None:
        """Tabifying docks before the window is shown leaves earlier tab bars of the same group
        on screen (over the timeline, say) in Qt 6.8: a bar is live only right under its dock."""
        docks = {dock.windowTitle(): dock for dock in self.docks.values()}
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            dock = docks.get(bar.tabText(bar.currentIndex()))
            if dock is None or not bar.isVisible():
                continue
            below = dock.geometry()
            if abs(bar.y() - below.bottom()) > 12 or abs(bar.x() - below.x()) > 12:
                bar.hide()

    def _show_empty_states(self) -> None:
        """The start page stands in for the canvas while the project has no panels; the pages
        tab says how to begin while it has no pages."""
        project = self.document.project
        self.panel_view.show_empty(not project.panels)
        self.start_page.show_recent(self.settings.recent_projects)
        self.pages_view.show_empty(not project.page_ids)
        self.pages_empty.buttons["Lay out the first page"].setEnabled(bool(project.panels))

    # -- the document ---------------------------------------------------------------------------

    def _connect_document(self) -> None:
        doc = self.document
        doc.modified_changed.connect(self.setWindowModified)
        doc.path_changed.connect(lambda _: self._update_title())
        doc.changed.connect(self._document_changed)
        doc.edit_refused.connect(
            lambda: self.statusBar().showMessage("Read-only: this edit was not made.", 4000)
        )
        self.read_only_banner.watch(doc)
        self._update_title()
        self._show_empty_states()

    def _update_title(self) -> None:
        name = self.document.path.stem if self.document.path else "Untitled"
        name += " (read-only)" if self.document.read_only else ""
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}")
        self.setWindowModified(self.document.is_modified())

    def _document_changed(self, change: Change) -> None:
        if change.settings:
            self._update_title()
        if change.structure or change.pages:
            self._show_empty_states()
        if change.structure:  # a first panel in a project of another shape than its model's
            self.aspect_notice.check(self.document)

    def set_document(self, document: Document) -> None:
        """Show another project in this window (the old one must be closed by the caller)."""
        self.document = document
        self.thumbnails.set_bundle(document.bundle)
        views = (self.timeline_model, self.preview, self.inspector, self.scenes, self.pages)
        for view in (*views, self.player):
            view.set_document(document)
        self.characters.set_document(document)
        self.candidates.set_document(document)
        self.balloons.set_document(document)
        self.panel_actions.set_document(document)
        self.follow.set_document(document)
        self.history.setStack(document.undo_stack)
        self.menus.set_document(document)
        self._connect_document()
        self.banner.hide()
        self._select_first_panel()
        self.aspect_notice.check(document)

    def _select_first_panel(self) -> None:
        order = self.timeline_model.panel_ids()
        self.timeline.select_panels(order[:1])

    def _scene_activated(self, scene_id: str) -> None:
        scene = self.document.project.scenes[scene_id]
        if scene.panel_ids:
            self.timeline.select_panels(scene.panel_ids[:1])

    # -- imports ----------------------------------------------------------------------------------

    def _openraster_imported(self, result: object) -> None:
        warnings = getattr(result, "warnings", [])
        self.statusBar().showMessage("Imported the OpenRaster file into the panel", 6000)
        if warnings:
            self.banner.show_message("Imported with warnings.", "\n".join(warnings))

    # -- settings ----------------------------------------------------------------------------

    def edit_project_settings(self) -> None:
        dialog = ProjectSettingsDialog(
            self.document,
            self,
            self.settings.lora_folders,
            self.add_lora_folder,
            self.settings.model_folders,
        )
        if dialog.exec():
            command = dialog.command()
            if command is not None:
                self.document.push(command)

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.settings = dialog.result_settings()
            self.files.autosave_timer.start(self.settings.autosave_seconds * 1000)
            apply_theme(self.settings.theme)
            self.store_settings()

    def add_lora_folder(self, folder: Path) -> None:
        """A LoRA picked by hand outside the LoRA folders: its folder becomes one (saved)."""
        if str(folder) not in self.settings.lora_folders:
            self.settings.lora_folders.append(str(folder))
            self.store_settings()
            self.statusBar().showMessage(f"{folder} was added to the LoRA folders", 6000)

    def store_settings(self) -> None:
        """The settings to disk (the recent projects too): a failure is logged, never shown."""
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        running = self.controller.running()
        if running is not None and not running.cancel.is_set():  # (a stopping one: no question)
            answer = QMessageBox.question(
                self,
                "Generation running",
                "A generation is running. Stop it and close? (Images made so far are kept.)",
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        if not self.files.may_close():
            event.ignore()
            return
        self.controller.shutdown()
        window_state.save(self)
        self.thumbnails.wait()
        self.document.close_session()
        event.accept()
