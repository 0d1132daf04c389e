"""Generated results the project folder could not take, as the artist sees them.

When the disk is full, the folder read-only or the drive unplugged, the controller keeps each new
image or clip in memory (:attr:`GenerationController.held`) instead of dropping it. This says so
in the window's banner, with the button that writes them once there is room, writes them after a
*Save as* to another place, and asks before a close would lose them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from storyboard.qt.controller import GenerationController
from storyboard.qt.errors import ErrorBanner

WRITE = "Write them now"


class HeldResults(QObject):
    def __init__(self, window: QWidget, controller: GenerationController, banner: ErrorBanner):
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.banner = banner
        controller.storage_failed.connect(self._failed)

    def _failed(self, message: str) -> None:
        self.banner.show_message(message, action=(WRITE, self.write))

    def write(self) -> None:
        """Try the held results again; the banner goes once all of them are in the project."""
        if self.controller.held and self.controller.store_held() == 0:
            self.banner.hide()

    def may_drop(self) -> bool:
        """Before the window or the project closes: held results exist only in memory."""
        count = len(self.controller.held)
        if not count:
            return True
        answer = QMessageBox.question(
            self.window,
            "Generated results not written",
            f"{count} generated result(s) could not be written to the project folder and are "
            f"only in memory. Close anyway and lose them?\n\nTo keep them, choose No, free some "
            f"disk space and click {WRITE}, or use File > Save as… to save the project on "
            "another drive.",
        )
        return answer == QMessageBox.StandardButton.Yes
