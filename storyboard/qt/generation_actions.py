"""Generate story, scene, selected panels, variants, a character's identity, transitions (one
panel's, a scene's, the story's) and print size; and what the window offers when a job fails
(choose a model, retry with low VRAM)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from inference.worker import EngineSettings
from storyboard.core.guides import GuidanceWeights
from storyboard.core.jobs import Overrides, build_story_request, identity_panel_ids
from storyboard.core.numbering import panel_numbers
from storyboard.core.settings import AppSettings
from storyboard.core.transition_jobs import (
    TransitionJob,
    TransitionPlan,
    build_transition_job,
    plan_transitions,
    scene_pairs,
    story_pairs,
)
from storyboard.core.transition_setup import transition_setup
from storyboard.qt.controller import GenerationController, JobState
from storyboard.qt.document import Document
from storyboard.qt.errors import show_error
from storyboard.qt.selection import Selection
from storyboard.qt.widgets.model_picker import ModelPicker


class ModelDialog(QDialog):
    """Shown when the model can't be loaded: the engine's explanation and a way to pick one."""

    def __init__(
        self,
        parent: QWidget | None,
        explanation: str,
        current: str,
        model_folders: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a model")
        message = QLabel(explanation)
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.source = ModelPicker(
            current, "a hub id (downloaded), a model folder or a .safetensors"
        )
        self.source.scan(model_folders)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use this model and retry")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(self.source)
        layout.addWidget(buttons)


class GenerationActions(QObject):
    def __init__(
        self,
        window: QWidget,
        controller: GenerationController,
        document: Callable[[], Document],
        selection: Selection,
        settings: Callable[[], AppSettings],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.document = document
        self.selection = selection
        self.settings = settings
        self.story = self._action("Generate story", "Ctrl+G", self.generate_story)
        self.scene = self._action("Generate scene", "Ctrl+Shift+G", self.generate_scene)
        self.selected = self._action("Regenerate selected panels", "Ctrl+R", self.regenerate)
        self.variants = self._action("More variants…", "Ctrl+Shift+R", self.more_variants)
        self.transition = self._action(
            "Generate transition to next panel", "Ctrl+Shift+T", self.generate_transition
        )
        self.scene_transitions = self._action(
            "Transitions for the scene", "", self.generate_scene_transitions
        )
        self.story_transitions = self._action(
            "Transitions for the story", "", self.generate_story_transitions
        )
        self.print_size = self._action("Print size for comic pages…", "", self.enlarge_for_print)
        controller.job_failed.connect(self.offer_fix)

    def _action(self, text: str, keys: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        return action

    def actions(self) -> list[QAction]:
        return [
            self.story,
            self.scene,
            self.selected,
            self.variants,
            self.transition,
            self.scene_transitions,
            self.story_transitions,
            self.print_size,
        ]

    def engine_settings(self) -> EngineSettings:
        chosen = self.settings()
        return EngineSettings(
            device=chosen.device,
            low_vram=chosen.low_vram,
            fast_generation=chosen.fast_generation,
            cluster=chosen.cluster.strip() or None,
        )

    # -- making jobs ----------------------------------------------------------------------------

    def writable(self, document: Document) -> bool:
        """A read-only window generates nothing: the images would belong to another owner."""
        if document.holder is not None:
            show_error(
                self.window,
                "Nothing was generated",
                f"This window shows the project read-only: it is open in "
                f"{document.holder.describe()}. Generate there, or take over once it is closed.",
            )
        return document.holder is None

    def enqueue(self, label: str, panel_ids: list[str] | None, seed: int | None = None) -> bool:
        document = self.document()
        if not self.writable(document):
            return False
        chosen = self.settings()
        weights = GuidanceWeights(chosen.controlnet or None, chosen.t2i_adapter or None)
        overrides = Overrides(
            model=chosen.model_source or None,
            seed=seed,
            weights=weights,
            lora_folders=tuple(chosen.lora_folders),
        )
        try:
            request = build_story_request(
                document.project, panel_ids, bundle=document.bundle, overrides=overrides
            )
        except ValueError as exc:
            show_error(self.window, "Nothing was generated", str(exc))
            return False
        if not request.panels:
            show_error(self.window, "Nothing to generate", "Add a panel with a prompt first.")
            return False
        self.controller.enqueue(label, request, document, self.engine_settings())
        return True

    def generate_story(self) -> None:
        self.enqueue("Story", None)

    def generate_scene(self) -> None:
        project = self.document().project
        current = self.selection.current
        if current is None:
            return
        scene = project.scene_of(current)
        self.enqueue(f"Scene: {scene.title or 'untitled'}", list(scene.panel_ids))

    def regenerate(self) -> None:
        selected = self.selection.selected
        if selected:
            numbers = panel_numbers(self.document().project)
            label = ", ".join(numbers[p] for p in selected[:4]) + ("…" if len(selected) > 4 else "")
            self.enqueue(f"Panels {label}", selected, seed=random.randrange(2**31))

    def generate_panel(self, panel_id: str) -> None:
        """One panel with its guidance (the canvas's Generate): a new candidate each time."""
        number = panel_numbers(self.document().project)[panel_id]
        self.enqueue(f"Panel {number}", [panel_id], seed=random.randrange(2**31))

    def more_variants(self, count: int | None = None) -> None:
        selected = self.selection.selected
        if not selected:
            return
        if count is None:
            count, ok = QInputDialog.getInt(self.window, "More variants", "How many?", 4, 1, 16)
            if not ok:
                return
        numbers = panel_numbers(self.document().project)
        names = ", ".join(numbers[p] for p in selected[:4])
        for number in range(1, count + 1):
            seed = random.randrange(2**31)
            self.enqueue(f"Variant {number}/{count} of {names}", selected, seed=seed)

    def generate_transition(self) -> bool:
        """A generated clip from the current panel to the next, played as its transition."""
        current = self.selection.current
        if current is None:
            return False
        document = self.document()
        if not self.writable(document):
            return False
        try:
            setup = transition_setup(self.settings(), document.project)
            job = build_transition_job(document.project, current, document.bundle, setup)
        except ValueError as exc:
            show_error(self.window, "No transition generated", str(exc))
            return False
        self.controller.enqueue(f"Transition {job.label}", job, document, self.engine_settings())
        return True

    def generate_scene_transitions(self) -> int:
        """A clip between each neighbouring pair of the current panel's scene; how many were
        queued."""
        current = self.selection.current
        if current is None:
            show_error(
                self.window, "No transitions generated", "Select a panel of the scene first."
            )
            return 0
        project = self.document().project
        scene = project.scene_of(current)
        title = scene.title or "untitled"
        why = f"Scene “{title}” has a single panel: a transition joins two neighbouring panels."
        return self.enqueue_transitions(scene_pairs(project, scene.id), why)

    def generate_story_transitions(self) -> int:
        """A clip between each neighbouring pair of every scene (scene cuts are left as they
        are: see storyboard.core.transition_jobs); how many were queued."""
        why = (
            "No scene has two panels. Transitions for the story join neighbouring panels inside "
            "each scene; for a clip across a scene cut, use Generate transition to next panel."
        )
        return self.enqueue_transitions(story_pairs(self.document().project), why)

    def enqueue_transitions(self, first_panels: list[str], none_why: str) -> int:
        """One job per pair, each its own queue entry (cancel, retry, reorder one at a time).
        Pairs waiting for an image are skipped with one message; pairs that already play a
        generated clip are made again only when the user says so (hours of GPU work)."""
        document = self.document()
        if not self.writable(document):
            return 0
        try:
            setup = transition_setup(self.settings(), document.project)
            plan = plan_transitions(document.project, first_panels, document.bundle, setup)
        except ValueError as exc:
            show_error(self.window, "No transitions generated", str(exc))
            return 0
        if not plan.jobs and not plan.existing:
            reason = plan.imageless_message() if plan.imageless else none_why
            show_error(self.window, "No transitions generated", reason)
            return 0
        jobs = list(plan.jobs)
        if plan.existing:
            answer = self.ask_regenerate(plan)
            if answer is None:
                return 0
            jobs += plan.existing if answer else []
            jobs.sort(key=lambda job: first_panels.index(job.panel_id))
        for job in jobs:
            self.controller.enqueue(
                f"Transition {job.label}", job, document, self.engine_settings()
            )
        if plan.imageless:
            show_error(self.window, "Some transitions were skipped", plan.imageless_message())
        return len(jobs)

    def ask_regenerate(self, plan: TransitionPlan) -> bool | None:
        """Whether to make the pairs that already have a generated clip again (True), keep them
        (False), or queue nothing (None)."""
        names = ", ".join(job.label for job in plan.existing[:6])
        names += "…" if len(plan.existing) > 6 else ""
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Generated transitions")
        box.setText(
            f"{len(plan.existing)} of these transitions already have a generated clip ({names}). "
            "Make them again? Each new clip replaces the old one on its panel."
        )
        again = box.addButton("Make them again", QMessageBox.ButtonRole.YesRole)
        keep = None
        if plan.jobs:
            keep = box.addButton(
                f"Keep them, make the other {len(plan.jobs)}", QMessageBox.ButtonRole.NoRole
            )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep or again)
        box.exec()
        clicked = box.clickedButton()
        if clicked is again:
            return True
        if keep is not None and clicked is keep:
            return False
        return None

    def enlarge_for_print(self) -> int:
        """Generate > Print size: the panels on comic pages enlarged for print (one job each,
        :mod:`storyboard.qt.print_size_action`); how many were queued."""
        from storyboard.qt.print_size_action import print_size

        document = self.document()
        if not self.writable(document):
            return 0
        model = self.settings().model_source or None
        return len(
            print_size(self.window, self.controller, document, self.engine_settings(), model)
        )

    def generate_identity(self, character_id: str) -> None:
        """Remake one character's identity panels (and so its identity bank)."""
        project = self.document().project
        panels = identity_panel_ids(project).get(character_id)
        name = project.characters[character_id].name
        if not panels:
            show_error(
                self.window,
                "No identity panels",
                f"No panel shows {name} with consistency on. Tick {name} in some panels first.",
            )
            return
        self.enqueue(f"Identity of {name}", panels)

    # -- when a job fails -----------------------------------------------------------------------

    def offer_fix(self, job_id: str) -> None:
        job = self.controller.job(job_id)
        if isinstance(job.request, TransitionJob):
            stopped = self.cancel_same_model(job.request) if job.error_kind == "model" else 0
            also = (
                f"\n\n{stopped} other transition(s) waiting for the same model were cancelled."
                if stopped
                else ""
            )
            show_error(
                self.window,
                "No transition generated",
                f"{job.error}\n\nWithout these weights, choose a transition that needs no model "
                "in the inspector (crossfade, dip, wipe, push or morph), or set the transition "
                f"model in File > Settings.{also}",
            )
        elif job.error_kind == "model":
            dialog = ModelDialog(
                self.window, job.error, self.settings().model_source, self.settings().model_folders
            )
            if dialog.exec() and dialog.source.text():
                source = dialog.source.text()
                self.settings().model_source = source
                job.request = dataclasses.replace(job.request, model=source)
                self.controller.retry(job_id)
        elif job.error_kind == "memory":
            box = QMessageBox(self.window)
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle("Out of GPU memory")
            box.setText(job.error)
            retry = box.addButton("Retry with low VRAM", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Close)
            box.exec()
            if box.clickedButton() is retry:
                self.settings().low_vram = True
                self.controller.retry(job_id, dataclasses.replace(job.settings, low_vram=True))
        else:
            show_error(self.window, f"“{job.label}” failed", job.error)

    def cancel_same_model(self, failed: TransitionJob) -> int:
        """Cancel the waiting transitions that need the model a job just failed to load: one
        message for a scene's worth of pairs, not one per pair. Returns how many."""
        waiting = [
            job
            for job in self.controller.jobs
            if job.state == JobState.QUEUED
            and isinstance(job.request, TransitionJob)
            and (job.request.backend, job.request.model) == (failed.backend, failed.model)
        ]
        for job in waiting:
            self.controller.cancel(job.id)
        return len(waiting)
