"""Exports from the editor: comic PDF, storyboard worksheets, animatic (video or timeline),
OpenRaster panels, Storyboarder project.

Each runs on its own thread on a snapshot of the project (the artist keeps editing), shows
progress with a Cancel button, and reports success or a clear error. The export functions are the
same ones the CLI calls; they leave no file behind when cancelled or failing.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from storyboard.core.errors import ProjectError
from storyboard.core.settings import AppSettings
from storyboard.export.output import ExportCancelled
from storyboard.qt.document import Document
from storyboard.qt.errors import show_error

if TYPE_CHECKING:  # the export modules load when an export starts, not with the window
    from storyboard.export.comic_pdf import ComicOptions

log = logging.getLogger(__name__)

Job = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


class BackgroundTask(QThread):
    """Runs ``job(progress, cancelled)`` off the GUI thread and reports back with signals."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    was_cancelled = Signal()

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            result = self.job(self.progressed.emit, self.stop.is_set)
        except ExportCancelled:
            self.was_cancelled.emit()
        except ProjectError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # reported, never a crash of the editor
            log.exception("export failed")
            self.failed.emit(f"Unexpected {type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)


class ExportActions(QObject):
    finished = Signal(object)  # the written path (tests and the status bar)
    left_out = Signal(str)  # what a timeline format could not hold (an EDL's sounds, ...)
    warned = Signal(str, list)  # what was exported, and what it left out (the banner shows it)

    def __init__(
        self,
        window: QWidget,
        document: Callable[[], Document],
        settings: Callable[[], AppSettings],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.document = document
        self.settings = settings
        self.task: BackgroundTask | None = None
        # triggered(checked) would arrive as the target: each export is called without it
        self.comic = QAction("Export comic PDF…", self)
        self.comic.triggered.connect(lambda *_: self.export_comic())
        self.sheets = QAction("Export storyboard worksheets…", self)
        self.sheets.triggered.connect(lambda *_: self.export_sheets())
        self.video = QAction("Export animatic…", self)
        self.video.triggered.connect(lambda *_: self.export_video())
        self.storyboarder = QAction("Export Storyboarder project…", self)
        self.storyboarder.triggered.connect(lambda *_: self.export_storyboarder())

    def actions(self) -> list[QAction]:
        return [self.comic, self.sheets, self.video, self.storyboarder]

    def _target(self, title: str, suffix: str, filters: str) -> Path | None:
        document = self.document()
        stem = document.path.stem if document.path else "storyboard"
        name, chosen = QFileDialog.getSaveFileName(self.window, title, f"{stem}{suffix}", filters)
        if not name:
            return None
        path = Path(name)
        wanted = re.search(r"\(\*(\.\w+)\)", chosen)  # "CMX3600 EDL (*.edl)" -> ".edl"
        if not path.suffix and wanted:  # a name typed without one: the chosen filter's
            path = path.with_name(path.name + wanted.group(1))
        return path

    def export_comic(
        self, target: Path | None = None, options: ComicOptions | None = None
    ) -> BackgroundTask | None:
        """Ask for the print options (with the preflight) and the file, then export. Given a
        ``target``, no dialog: ``options`` or the settings' defaults."""
        from storyboard.export.comic_pdf import ComicOptions, export_comic_pdf
        from storyboard.qt.widgets.comic_export import ComicExportDialog

        defaults = self.settings().export
        if target is None and options is None:
            document = self.document()
            dialog = ComicExportDialog(document.project, document.bundle, defaults, self.window)
            if not dialog.exec():
                return None
            options = dialog.options()
        target = target or self._target("Export comic PDF", ".pdf", "PDF (*.pdf)")
        if target is None:
            return None
        if options is None:
            options = ComicOptions(preset=defaults.page_preset, dpi=defaults.dpi, all_panels=True)
        return self._start("Comic PDF", target, export_comic_pdf, options)

    def export_sheets(self, target: Path | None = None) -> BackgroundTask | None:
        from storyboard.export.sheets_pdf import SheetOptions, export_sheets_pdf

        target = target or self._target("Export worksheets", "-sheets.pdf", "PDF (*.pdf)")
        if target is None:
            return None
        return self._start("Worksheets", target, export_sheets_pdf, SheetOptions())

    def export_video(self, target: Path | None = None) -> BackgroundTask | None:
        """The animatic as a video, or its edit as a timeline for editors (by the suffix)."""
        from storyboard.export.animatic_options import SIZE_PRESETS, AnimaticOptions
        from storyboard.export.timeline_files import FILTERS, export_timeline, is_timeline
        from storyboard.export.video import export_video

        filters = ";;".join(("MP4 video (*.mp4)", "Animated GIF (*.gif)", *FILTERS))
        target = target or self._target("Export animatic", ".mp4", filters)
        if target is None:
            return None
        size = SIZE_PRESETS.get(self.settings().export.video_size, SIZE_PRESETS["1080p"])
        if is_timeline(target):
            return self._start("Timeline", target, export_timeline, AnimaticOptions(size=size))
        return self._start("Animatic", target, export_video, AnimaticOptions(size=size))

    def export_openraster(
        self, panel_ids: list[str] | None = None, folder: Path | None = None, kind: str = "ora"
    ) -> BackgroundTask | None:
        """``panel_ids`` (None: every panel) as one layered ``.ora`` (or ``.psd``: ``kind``)
        each, into a folder."""
        from storyboard.export.openraster import OraOptions, export_ora

        what = "Photoshop files" if kind == "psd" else "OpenRaster files"
        if folder is None:
            name = QFileDialog.getExistingDirectory(self.window, f"Export {what} into")
            if not name:
                return None
            folder = Path(name)
        options = OraOptions(tuple(panel_ids) if panel_ids else None, kind)
        return self._start(what, folder, export_ora, options)

    def _succeeded(self, target: Path, result: Any) -> None:
        dropped = getattr(result, "dropped", ())
        if dropped:
            self.left_out.emit(
                f"{target.name} left out what its format cannot hold: " + "; ".join(dropped)
            )
        self.finished.emit(target)

    def export_storyboarder(self, target: Path | None = None) -> BackgroundTask | None:
        """A Storyboarder project in a new folder (named in the dialog, made by the export)."""
        from storyboard.export.storyboarder_project import (
            StoryboarderOptions,
            StoryboarderResult,
            export_storyboarder,
        )

        title = "Export Storyboarder project (a new folder)"
        target = target or self._target(title, "-storyboarder", "Folder (*)")
        if target is None:
            return None
        task = self._start(
            "Storyboarder project", target, export_storyboarder, StoryboarderOptions()
        )
        if task is not None:

            def tell(result: StoryboarderResult) -> None:
                if result.warnings:
                    self.warned.emit(str(target), result.warnings)

            task.succeeded.connect(tell)
        return task

    def _start(self, what: str, target: Path, export: Any, options: Any) -> BackgroundTask | None:
        if self.task is not None and self.task.isRunning():
            show_error(self.window, "Export running", "Wait for the current export to finish.")
            return None
        document = self.document()
        snapshot = copy.deepcopy(document.project)  # the artist keeps editing meanwhile
        bundle = document.bundle

        def job(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Any:
            return export(snapshot, bundle, target, options, progress, cancelled)

        dialog = QProgressDialog(f"Exporting {what.lower()}…", "Cancel", 0, 100, self.window)
        dialog.setObjectName("export-progress")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        task = BackgroundTask(job)
        task.progressed.connect(
            lambda done, total: dialog.setValue(int(100 * done / max(1, total)))
        )
        dialog.canceled.connect(task.stop.set)
        task.succeeded.connect(lambda result: self._succeeded(target, result))
        task.failed.connect(
            lambda message: show_error(self.window, f"{what} not exported", message)
        )
        task.finished.connect(dialog.reset)
        task.finished.connect(dialog.deleteLater)
        self.task = task
        task.start()
        return task
