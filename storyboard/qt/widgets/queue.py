"""The queue dock: every generation job with its state, progress, live preview and ETA; cancel,
retry, reorder and clear.

Cancel needs no selection: it stops the selected jobs when some are selected, else the running
one. The dock comes to the front when a job is added (it shares its place with the Player), so
starting a generation always shows its progress.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.qt.controller import FINISHED, GenerationController, Job, JobState
from storyboard.qt.widgets.forms import tool_strip

PREVIEW = QSize(96, 54)
STATE_TEXT = {
    JobState.QUEUED: "waiting",
    JobState.RUNNING: "running",
    JobState.DONE: "done",
    JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled",
}


class JobRow(QWidget):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job_id = job.id
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW)
        self.preview.setStyleSheet("background: #3a3a3a;")
        self.title = QLabel()
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.bar)
        text.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.preview)
        layout.addLayout(text, 1)
        self.setMinimumHeight(PREVIEW.height() + 48)  # title, bar and two lines of status
        self.update_from(job)

    def update_from(self, job: Job) -> None:
        self.title.setText(f"<b>{job.label}</b>")
        self.bar.setValue(int(job.fraction() * 1000) if job.state != JobState.DONE else 1000)
        self.bar.setVisible(job.state in (JobState.RUNNING, JobState.DONE))
        self.status.setText(_status(job))
        self.status.setToolTip(job.error)
        if job.preview is not None:
            self.preview.setPixmap(
                QPixmap.fromImage(job.preview).scaled(
                    PREVIEW,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )


def _status(job: Job) -> str:
    text = STATE_TEXT[job.state]
    if job.state == JobState.RUNNING:
        phase = {
            "loading": "loading the model",
            "identity": "identity panels",
            "print size": "print size, tile by tile",
        }.get(job.phase, "panels")
        text = f"{phase}: image {min(job.images_done + 1, job.images_total)} of {job.images_total}"
        if job.total:
            text += f", step {job.step}/{job.total}"
        if job.note:
            text = f"{job.note} · {text}"
        eta = job.eta_seconds()
        if eta is not None and not job.note:
            text += f" · about {int(eta) // 60}:{int(eta) % 60:02d} left"
    elif job.state == JobState.DONE:
        text = f"done: {len(job.assets)} image(s)"
        if job.repeated:
            text += f", {job.repeated} as before (same seeds: More variants makes new ones)"
    elif job.error:
        text = f"{text}: {job.error.splitlines()[0]}"
    if job.orphans:
        text += f" · {len(job.orphans)} image(s) of deleted panels kept here"
    if job.held:
        text += f" · {job.held} not written to disk yet (kept in memory)"
    return text


class QueuePanel(QWidget):
    def __init__(self, controller: GenerationController) -> None:
        super().__init__()
        self.setObjectName("queue")
        self.controller = controller
        self.list = QListWidget()
        self.list.setObjectName("jobs")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.rows: dict[str, JobRow] = {}
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the selected jobs, or the running one when none is selected")
        self.retry = QPushButton("Retry")
        self.up, self.down = QPushButton("▲"), QPushButton("▼")
        self.clear = QPushButton("Clear finished")
        self.cancel.clicked.connect(self.cancel_jobs)
        self.retry.clicked.connect(lambda: self._on_selected(controller.retry))
        self.up.clicked.connect(lambda: self._on_selected(lambda j: controller.move(j, -1)))
        self.down.clicked.connect(lambda: self._on_selected(lambda j: controller.move(j, 1)))
        self.clear.clicked.connect(controller.clear_finished)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list)
        layout.addWidget(
            tool_strip("queue-tools", self.cancel, self.retry, self.up, self.down, self.clear)
        )
        controller.jobs_changed.connect(self.rebuild)
        controller.changed.connect(self.refresh)
        self.list.currentRowChanged.connect(lambda _: self._update_buttons())
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.rebuild()

    def selected_job(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def jobs_to_cancel(self) -> list[str]:
        """The selected jobs still waiting or running; with none selected, the running job (or
        the next waiting one, between two jobs)."""
        selected = [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]
        live = [job for job in self.controller.jobs if job.state not in FINISHED]
        chosen = [job.id for job in live if job.id in selected]
        if chosen or selected:
            return chosen
        running = self.controller.running()
        return [running.id] if running is not None else [job.id for job in live[:1]]

    def cancel_jobs(self) -> None:
        for job_id in self.jobs_to_cancel():
            self.controller.cancel(job_id)

    def _on_selected(self, action: Callable[[str], object]) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            action(job_id)

    def rebuild(self) -> None:
        keep = self.selected_job()
        self.list.clear()
        self.rows = {}
        for job in self.controller.jobs:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, job.id)
            widget = JobRow(job)
            # the row's own minimum (title, bar, two lines of status), which its layout's size
            # hint leaves out: rows were laid over each other's status line
            item.setSizeHint(widget.sizeHint().expandedTo(widget.minimumSize()))
            self.list.addItem(item)
            self.list.setItemWidget(item, widget)
            self.rows[job.id] = widget
            if job.id == keep:
                self.list.setCurrentItem(item)
        self._update_buttons()

    def refresh(self, job_id: str) -> None:
        widget = self.rows.get(job_id)
        if widget is not None:
            widget.update_from(self.controller.job(job_id))
        self._update_buttons()

    def _update_buttons(self) -> None:
        job_id = self.selected_job()
        job = self.controller.job(job_id) if job_id else None
        self.cancel.setEnabled(bool(self.jobs_to_cancel()))
        self.retry.setEnabled(
            job is not None and job.state in (JobState.FAILED, JobState.CANCELLED)
        )
        waiting = job is not None and job.state == JobState.QUEUED
        self.up.setEnabled(waiting)
        self.down.setEnabled(waiting)


class RaiseOnNewJob(QObject):
    """Brings the queue's dock to the front (and shows it) whenever a job is added."""

    def __init__(self, dock: QDockWidget, controller: GenerationController) -> None:
        super().__init__(dock)
        self.dock = dock
        self.controller = controller
        self._known = {job.id for job in controller.jobs}
        controller.jobs_changed.connect(self._jobs_changed)

    def _jobs_changed(self) -> None:
        ids = {job.id for job in self.controller.jobs}
        added = ids - self._known
        self._known = ids
        if added:
            self.dock.show()
            self.dock.raise_()
