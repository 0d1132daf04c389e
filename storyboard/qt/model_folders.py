"""The model folders scanned on a background thread, the result delivered on the GUI thread.

A folder on a slow or hung network drive, or one with thousands of files, must never freeze the
editor: the scan (``storyboard/core/model_scan.py``) runs on a daemon thread (one the editor's
exit never waits for), a newer request cancels the one still running, and only the newest
request's result is delivered (``found``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from storyboard.core.model_scan import ScanResult, scan_folders

log = logging.getLogger(__name__)


class ModelFolderScan(QObject):
    """``start(folders)`` scans in the background; ``found`` carries the :class:`ScanResult`."""

    found = Signal(object)
    _done = Signal(int, object)  # request number, result: emitted from the scanning thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._request = 0
        self._stop = threading.Event()
        self._done.connect(self._deliver)

    @property
    def running(self) -> bool:
        return not self._stop.is_set()

    def start(self, folders: Sequence[str]) -> None:
        self._stop.set()  # the scan still running (if any) stops at its next file
        self._request += 1
        self._stop = threading.Event()
        request, stop, wanted = self._request, self._stop, list(folders)
        thread = threading.Thread(
            target=self._run, args=(request, stop, wanted), name="model-folder-scan", daemon=True
        )
        thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def _run(self, request: int, stop: threading.Event, folders: list[str]) -> None:
        try:
            result = scan_folders(folders, stop.is_set)
        except Exception:  # a bug must not end silently on a thread nobody watches
            log.exception("scanning the model folders %s failed", folders)
            result = ScanResult(notes=["the scan failed; see the log"])
        try:
            self._done.emit(request, result)
        except RuntimeError:  # the dialog that asked was closed meanwhile
            log.debug("model folder scan finished after its receiver was deleted")

    def _deliver(self, request: int, result: ScanResult) -> None:
        if request == self._request:
            self._stop.set()
            self.found.emit(result)
