"""Generate > Print size…: enlarge the panels on comic pages to the pixels their frames need.

The dialog asks for the dpi to reach, the pages (blank: all) and the refine strength, and shows
the plan as the options change (:func:`storyboard.export.print_size.plan_print_size`, header
reads only): which panels grow from what size to what, and which are sharp enough already. OK
queues one job per panel, so each has its own progress, Cancel and Retry in the queue; each result
becomes a new candidate of its panel, accepted, the original kept
(:func:`storyboard.core.print_jobs.print_record_commands`, applied by the controller).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from inference.worker import EngineSettings
from storyboard.core.jobs import Overrides
from storyboard.core.print_jobs import DEFAULT_STRENGTH, build_print_request
from storyboard.export.comic_pdf import ComicOptions
from storyboard.export.print_size import DPI_RANGE, PrintPlan, parse_pages, plan_print_size
from storyboard.qt.controller import GenerationController, Job
from storyboard.qt.document import Document
from storyboard.qt.errors import show_error


class PrintSizeDialog(QDialog):
    """The options of a print-size run, with the plan they make."""

    def __init__(self, parent: QWidget | None, document: Document) -> None:
        super().__init__(parent)
        self.setWindowTitle("Print size")
        self.document = document
        self.plan: PrintPlan | None = None
        self.dpi = QSpinBox()
        self.dpi.setRange(*DPI_RANGE)
        self.dpi.setValue(300)
        self.dpi.setSuffix(" dpi")
        self.pages = QLineEdit()
        self.pages.setPlaceholderText("all pages (or e.g. 1,3-5,cover)")
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.0, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(DEFAULT_STRENGTH)
        self.strength.setToolTip(
            "How much the refine may redraw: 0 only enlarges; low values add detail and keep "
            "the panel (and its characters, read from their identity banks) as it is"
        )
        self.summary = QLabel()
        self.summary.setObjectName("print-plan")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Reach", self.dpi)
        form.addRow("Pages", self.pages)
        form.addRow("Refine strength", self.strength)
        form.addRow(self.summary)
        form.addRow(self.buttons)
        self.dpi.valueChanged.connect(self.update_plan)
        self.pages.textChanged.connect(self.update_plan)
        self.update_plan()

    def update_plan(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            pages = parse_pages(self.pages.text()) if self.pages.text().strip() else None
            self.plan = plan_print_size(
                self.document.project,
                self.document.bundle,
                self.dpi.value(),
                ComicOptions(all_panels=True),  # what File > Export comic PDF prints
                pages,
            )
        except ValueError as exc:
            self.plan = None
            self.summary.setText(str(exc))
            ok.setEnabled(False)
            return
        self.summary.setText("\n".join(self.plan.describe()))
        count = len(self.plan.targets)
        ok.setEnabled(count > 0)
        ok.setText(f"Enlarge {count} panel{'s' if count != 1 else ''}" if count else "OK")


def queue_print_size(
    controller: GenerationController,
    document: Document,
    plan: PrintPlan,
    strength: float,
    settings: EngineSettings,
    model: str | None = None,
) -> list[Job]:
    """One queue job per panel of ``plan``; the jobs queued."""
    jobs = []
    overrides = Overrides(model=model)
    for target in plan.targets:
        request = build_print_request(
            document.project, [target], bundle=document.bundle, strength=strength,
            overrides=overrides,
        )  # fmt: skip
        width, height = target.target
        label = f"Print size {target.label} ({width}x{height})"
        jobs.append(controller.enqueue(label, request, document, settings))
    return jobs


def print_size(
    window: QWidget,
    controller: GenerationController,
    document: Document,
    settings: EngineSettings,
    model: str | None,
    ask: Callable[[PrintSizeDialog], bool] = lambda dialog: bool(dialog.exec()),
) -> list[Job]:
    """Ask for the options (``ask`` runs the dialog; tests answer it), then queue the jobs."""
    dialog = PrintSizeDialog(window, document)
    if not ask(dialog) or dialog.plan is None or not dialog.plan.targets:
        return []
    try:
        return queue_print_size(
            controller, document, dialog.plan, dialog.strength.value(), settings, model
        )
    except ValueError as exc:
        show_error(window, "Nothing was enlarged", str(exc))
        return []
