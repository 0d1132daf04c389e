"""'Edit in external editor': the panel's image opened in the artist's program, reloaded on save.

The image is copied to ``<bundle>/cache/external/`` (assets are immutable and must never be edited
in place) and the program is started detached with that file. A file watcher notices each save;
after a short quiet period (programs write in several steps, or save to a temporary file and
rename it over) the new pixels become a candidate of the panel and its accepted image, one undo
step per save. The watch lasts while the editor window lives. The copy stays in the bundle: a
``cache/`` that leads out of it is refused, and the copy replaces whatever entry was there (a link
too) instead of writing through it.
"""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QProcess, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage

from storyboard.core.atomic import atomic_write
from storyboard.core.bundle_paths import CACHE, OutsideBundle, confined, is_plain_name
from storyboard.qt.canvas_edits import import_image, png_of
from storyboard.qt.document import Document

log = logging.getLogger(__name__)
QUIET_MS = 300


class ExternalEditor(QObject):
    reloaded = Signal(str, str)  # panel id, new asset id
    failed = Signal(str)  # message for the artist

    def __init__(self) -> None:
        super().__init__()
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._changed)
        self.watcher.directoryChanged.connect(self._directory_changed)
        self.editing: dict[str, tuple[Document, str, bytes]] = {}  # file -> doc, panel, last PNG
        self._timers: dict[str, QTimer] = {}

    def open(self, document: Document, panel_id: str, command: str) -> Path | None:
        """Open the panel's image (white paper before it has one) in ``command``.

        ``command`` is a program with arguments; ``{file}`` marks where the file goes (at the end
        otherwise). An empty command uses the system's default application for PNG files.
        """
        panel = document.project.panels[panel_id]
        source = document.assets.file(panel.image)
        image = QImage(str(source)) if source is not None else QImage()
        if image.isNull():
            gen = document.project.settings.generation
            image = QImage(gen.width, gen.height, QImage.Format.Format_RGB32)
            image.fill(0xFFFFFF)
        png = png_of(image)
        try:
            folder = confined(document.bundle, CACHE, "external")
            target = folder / f"panel-{panel_id}.png"
            if not is_plain_name(target.name):
                raise OutsideBundle(target, "is not a file name inside the project folder")
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(target, png)  # replaces the entry (a link too), never writes through it
        except (OutsideBundle, OSError) as exc:
            self.failed.emit(f"Could not copy the panel for the external editor: {exc}")
            return None
        if not self._start(command, target):
            return None
        self.editing[str(target)] = (document, panel_id, png)
        self.watcher.addPath(str(target))
        if str(folder) not in self.watcher.directories():
            self.watcher.addPath(str(folder))
        return target

    def _start(self, command: str, target: Path) -> bool:
        if not command.strip():
            if QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):
                return True
            self.failed.emit("No program opens PNG files here; choose one in Settings.")
            return False
        parts = shlex.split(command)
        if "{file}" in command:
            parts = [p.replace("{file}", str(target)) for p in parts]
        else:
            parts.append(str(target))
        started, _pid = QProcess.startDetached(parts[0], parts[1:])
        if not started:
            self.failed.emit(
                f"Could not start {parts[0]!r}; check the external editor in Settings."
            )
        return bool(started)

    def stop(self) -> None:
        """Stop watching (the project is closing)."""
        for path in list(self.editing):
            self.watcher.removePath(path)
        self.editing.clear()

    def _directory_changed(self, _folder: str) -> None:
        # A save by rename replaces the file: the watch on it is gone, so add it again.
        for path in self.editing:
            if path not in self.watcher.files() and Path(path).is_file():
                self.watcher.addPath(path)
                self._changed(path)

    def _changed(self, path: str) -> None:
        if path not in self.editing:
            return
        timer = self._timers.get(path)
        if timer is None:
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda p=path: self._reload(p))
            self._timers[path] = timer
        timer.start(QUIET_MS)

    def _reload(self, path: str) -> None:
        document, panel_id, last = self.editing[path]
        if panel_id not in document.project.panels:
            return
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            log.info("external edit of %s not readable yet: %s", path, exc)
            return
        if data == last:
            return
        image = QImage.fromData(data)
        if image.isNull():  # half written: the next change reloads it
            return
        self.editing[path] = (document, panel_id, data)
        asset = import_image(document, panel_id, image, "external editor")
        self.reloaded.emit(panel_id, asset)
