"""Says once, when a project opens, that its aspect ratio differs from the one shape its model
draws (the built-in model: 64x64 squares; a script's project: 16:9), and offers to match.

Every view letterboxes the pictures (``core.framing.letterbox``), so nothing is stretched or
cropped either way; the notice is so the bars are no surprise. *Match* sets the project's aspect
to the model's shape, one undoable step. Once per project per session: a project already told
about (by its folder, or the untitled document itself) is not told again.
"""

from __future__ import annotations

from fractions import Fraction

from storyboard.core.commands import EditFields
from storyboard.core.resources import model_presets
from storyboard.qt.document import Document
from storyboard.qt.errors import ErrorBanner

TOLERANCE = 0.01


def native_aspect(document: Document) -> tuple[int, int] | None:
    """The model's one shape, when it has one and the project's aspect differs from it."""
    project = document.project
    preset = model_presets().get(project.settings.generation.model)
    if preset is None or preset.native_size is None:
        return None
    width, height = preset.native_size
    if abs(project.settings.aspect_ratio - width / height) <= TOLERANCE:
        return None
    return width, height


def ratio_text(aspect: float) -> str:
    fraction = Fraction(aspect).limit_denominator(20)
    return f"{fraction.numerator}:{fraction.denominator}"


class AspectNotice:
    def __init__(self, banner: ErrorBanner) -> None:
        self.banner = banner
        self._told: set[object] = set()

    def check(self, document: Document) -> bool:
        """Show the notice if it is due; True when it was shown."""
        key: object = document.path.resolve() if document.path else id(document)
        native = native_aspect(document)
        if native is None or key in self._told or not document.project.panels:
            return False
        self._told.add(key)
        width, height = native
        project_ratio = ratio_text(document.project.settings.aspect_ratio)
        model_ratio = ratio_text(width / height)
        self.banner.show_message(
            f"This project is {project_ratio}, but its model draws {width}x{height} "
            f"({model_ratio}) pictures: they are shown whole, between bars, in the canvas, "
            "the timeline, the player and the video.",
            action=(f"Make the project {model_ratio}", lambda: self.match(document, native)),
        )
        return True

    def match(self, document: Document, native: tuple[int, int]) -> None:
        width, height = native
        document.push(
            EditFields(
                "settings",
                "",
                {"aspect_ratio": width / height},
                label="Match the model's picture shape",
            )
        )
        self.banner.hide()
