"""The "Panel" tab: the canvas under a toolbar of drawing tools, layers, guides and guidance.

Layer visibility and opacity, the guidance method and its strength are panel fields edited with
``EditFields`` (undoable; dragging the opacity slider is one step). Generate makes the current
panel with its guidance through the same queue as every other generation, so each result is a
candidate. The folders of the optional guidance weights and the external editor program are
application settings, chosen here where they are needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QSlider,
    QSpinBox,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import EditFields
from storyboard.core.model import Guidance, GuidanceMethod, LayerKind
from storyboard.core.settings import AppSettings
from storyboard.qt.canvas_edits import layer_of, with_layer
from storyboard.qt.external_editor import ExternalEditor
from storyboard.qt.widgets.canvas import PanelCanvas, Tool

METHOD_LABELS = {
    GuidanceMethod.TEXT: "Prompt only",
    GuidanceMethod.IMG2IMG: "From sketch (img2img)",
    GuidanceMethod.CONTROLNET: "Sketch lines (ControlNet)",
    GuidanceMethod.T2I_ADAPTER: "Sketch lines (T2I-Adapter)",
    GuidanceMethod.INPAINT: "Inpaint the mask",
}
_merge_keys = itertools.count()


class CanvasStudio(QWidget):
    def __init__(
        self,
        canvas: PanelCanvas,
        settings: Callable[[], AppSettings],
        generate: Callable[[str], object],
    ) -> None:
        super().__init__()
        self.canvas = canvas
        self.settings = settings
        self.generate = generate
        self.external = ExternalEditor()
        self.external.failed.connect(canvas.message)
        self._filling = False
        self._opacity_key: object = None
        self.tools = QToolBar("Drawing")
        self.tools.setObjectName("canvas-tools")
        self.tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.actions_bar = QToolBar("Guidance")  # a second row: the drawing tools fill the first
        self.actions_bar.setObjectName("canvas-guidance")
        self._tool_buttons()
        self._layer_controls()
        self._guidance_controls()
        self._guide_controls()  # on the second row: the first is full at common window widths
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tools)
        layout.addWidget(self.actions_bar)
        layout.addWidget(canvas, 1)
        canvas.shown_changed.connect(self.refresh)
        self.refresh()

    # -- building -------------------------------------------------------------------------------

    def _tool_buttons(self) -> None:
        group = QActionGroup(self)
        self.tool_actions: dict[Tool, QAction] = {}
        short = {Tool.CHARACTER_BOX: "Character", Tool.BALLOON_SPACE: "Balloon room"}
        for tool in Tool:
            action = QAction(short.get(tool, tool.value.capitalize()), self, checkable=True)
            action.setToolTip(f"{tool.value.capitalize()} tool")
            action.triggered.connect(lambda _=False, t=tool: self.set_tool(t))
            group.addAction(action)
            self.tools.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions[Tool.PEN].setChecked(True)
        self.color_button = QToolButton()
        self.color_button.setToolTip("Colour")
        self.color_button.clicked.connect(self._pick_color)
        self.brush = QSpinBox()
        self.brush.setRange(1, 80)
        self.brush.setValue(int(self.canvas.brush))
        self.brush.setToolTip("Brush size")
        self.brush.valueChanged.connect(lambda v: setattr(self.canvas, "brush", float(v)))
        self.tools.addWidget(self.color_button)
        self.tools.addWidget(self.brush)
        self._show_color()
        self.tools.addSeparator()

    def _layer_controls(self) -> None:
        self.layer = QComboBox()
        self.layer.setObjectName("canvas-layer")
        for kind in (LayerKind.SKETCH, LayerKind.NOTES, LayerKind.MASK):
            self.layer.addItem(kind.value.capitalize(), kind)
        self.layer.currentIndexChanged.connect(self._target_changed)
        self.visible = QCheckBox("Visible")
        self.visible.toggled.connect(self._visibility_changed)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setFixedWidth(90)
        self.opacity.setToolTip("Layer opacity")
        self.opacity.sliderPressed.connect(self._new_opacity_step)
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.tools.addWidget(QLabel(" Layer "))
        for widget in (self.layer, self.visible, self.opacity):
            self.tools.addWidget(widget)

    def _guide_controls(self) -> None:
        self.toggles: dict[str, QAction] = {}
        for attribute, text in (("onion", "Onion"), ("thirds", "Thirds"), ("safe_area", "Safe")):
            action = QAction(text, self, checkable=True)
            action.toggled.connect(lambda on, a=attribute: self.set_guide(a, on))
            self.actions_bar.addAction(action)
            self.toggles[attribute] = action

    def _guidance_controls(self) -> None:
        self.method = QComboBox()
        self.method.setObjectName("guidance-method")
        for method, label in METHOD_LABELS.items():
            self.method.addItem(label, method)
        self.method.currentIndexChanged.connect(self._guidance_changed)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.0, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setToolTip("Strength: how far the model may move away from the drawing")
        self.strength.valueChanged.connect(self._guidance_changed)
        self.generate_action = QAction("Generate", self)
        self.generate_action.triggered.connect(self._generate)
        self.edit_action = QAction("External…", self)
        self.edit_action.setToolTip(
            "Edit the panel image in your own program; saved edits come back"
        )
        self.edit_action.triggered.connect(self.edit_externally)
        self.paste_action = QAction("Paste", self)
        self.paste_action.setToolTip("Paste an image as the panel's image (Ctrl+Shift+V)")
        self.paste_action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.paste_action.triggered.connect(self.canvas.paste)
        self.addAction(self.paste_action)
        self.actions_bar.addWidget(QLabel(" Guidance "))
        for widget in (self.method, self.strength):
            self.actions_bar.addWidget(widget)
        self.actions_bar.addAction(self.generate_action)
        self.actions_bar.addSeparator()
        self.actions_bar.addAction(self.edit_action)
        self.actions_bar.addAction(self.paste_action)
        weights = self.actions_bar.addAction("Folders…")
        weights.triggered.connect(self.choose_folders)
        self.actions_bar.addSeparator()

    # -- state ----------------------------------------------------------------------------------

    def set_guide(self, attribute: str, on: bool) -> None:
        """Onion skin, rule of thirds or safe area on the canvas (view state, not the project)."""
        setattr(self.canvas, attribute, on)
        self.canvas.update()

    def set_tool(self, tool: Tool) -> None:
        self.canvas.tool = tool
        self.tool_actions[tool].setChecked(True)

    def set_layer(self, kind: LayerKind) -> None:
        self.layer.setCurrentIndex(self.layer.findData(kind))

    def refresh(self) -> None:
        """Show the current panel's layer and guidance fields without editing them."""
        panel = self.canvas.panel()
        self._filling = True
        try:
            layer = layer_of(panel, self.canvas.target) if panel is not None else None
            self.visible.setChecked(layer.visible if layer is not None else True)
            self.opacity.setValue(round((layer.opacity if layer is not None else 1.0) * 100))
            guidance = panel.guidance if panel is not None else Guidance()
            self.method.setCurrentIndex(self.method.findData(guidance.method))
            self.strength.setValue(guidance.strength)
            for widget in (self.visible, self.opacity, self.method, self.strength):
                widget.setEnabled(panel is not None)
            self.generate_action.setEnabled(panel is not None)
            self.edit_action.setEnabled(panel is not None)
        finally:
            self._filling = False

    def _target_changed(self) -> None:
        self.canvas.target = LayerKind(self.layer.currentData())
        if self.canvas.tool in (Tool.CHARACTER_BOX, Tool.BALLOON_SPACE):
            self.set_tool(Tool.PEN)
        self.refresh()

    def _edit_layer(self, label: str, merge_key: object = None, **changes: object) -> None:
        panel = self.canvas.panel()
        if self._filling or panel is None:
            return
        layers = with_layer(panel, self.canvas.target, **changes)
        self.canvas.document.push(
            EditFields("panel", panel.id, {"layers": layers}, label=label, merge_key=merge_key)
        )

    def _visibility_changed(self, on: bool) -> None:
        self._edit_layer("Show layer" if on else "Hide layer", visible=on)

    def _new_opacity_step(self) -> None:
        self._opacity_key = ("opacity", next(_merge_keys))

    def _opacity_changed(self, value: int) -> None:
        self._edit_layer("Layer opacity", self._opacity_key, opacity=value / 100)

    def _guidance_changed(self) -> None:
        panel = self.canvas.panel()
        if self._filling or panel is None:
            return
        guidance = Guidance(GuidanceMethod(self.method.currentData()), self.strength.value())
        if guidance != panel.guidance:
            self.canvas.document.push(
                EditFields("panel", panel.id, {"guidance": guidance}, label="Guidance")
            )

    def _show_color(self) -> None:
        swatch = QPixmap(16, 16)
        swatch.fill(self.canvas.color)
        self.color_button.setIcon(QIcon(swatch))

    def _pick_color(self) -> None:
        chosen = QColorDialog.getColor(self.canvas.color, self, "Brush colour")
        if chosen.isValid():
            self.set_color(chosen)

    def set_color(self, color: QColor) -> None:
        self.canvas.color = QColor(color)
        self._show_color()

    # -- actions --------------------------------------------------------------------------------

    def _generate(self) -> None:
        if self.canvas.selection.current is not None:
            self.generate(self.canvas.selection.current)

    def edit_externally(self) -> None:
        current = self.canvas.selection.current
        if current is not None:
            self.external.open(self.canvas.document, current, self.settings().image_editor)

    def choose_folders(self) -> None:
        """Pick the ControlNet / T2I-Adapter folders and the external editor program."""
        settings = self.settings()
        items = ["ControlNet folder…", "T2I-Adapter folder…", "External editor program…"]
        item, ok = QInputDialog.getItem(self, "Folders", "Choose:", items, 0, False)
        if not ok:
            return
        if item == items[2]:
            text, ok = QInputDialog.getText(
                self, "External editor", "Program ({file} marks the image):",
                text=settings.image_editor,
            )  # fmt: skip
            if ok:
                settings.image_editor = text.strip()
            return
        folder = QFileDialog.getExistingDirectory(self, item.rstrip("…"))
        if folder and item == items[0]:
            settings.controlnet = folder
        elif folder:
            settings.t2i_adapter = folder
