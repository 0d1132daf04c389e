"""The story domain: a Project of Scenes of Panels, a Character library and comic Pages.

Plain dataclasses, no Qt and no signals (each number's type says its range:
:mod:`storyboard.core.limits`): every part of the application (widgets, exports, the
generation engine's requests, the file format) reads these, and every change goes through a
command in :mod:`storyboard.core.commands` so that it can be undone.

Objects are kept in dicts by id and ordered by lists of ids (``scene.panel_ids``), so moving a
panel never copies it and an id stays valid across every reorder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from storyboard.core.limits import (
    AspectRatio,
    Decibels,
    Degrees,
    Fps,
    Frames,
    GuidanceScale,
    Gutter,
    IdentityPanels,
    ImageSide,
    LoraWeight,
    Points,
    Proportion,
    Relative,
    RelativeSize,
    Seed,
    SettingFloat,
    SettingInt,
    Steps,
    TransitionFrames,
)

FPS_CHOICES: tuple[float, ...] = (23.976, 24.0, 25.0, 29.97, 30.0)
ASPECT_PRESETS: dict[str, float] = {
    "2.39:1 scope": 2.39,
    "1.85:1 flat": 1.85,
    "16:9": 16 / 9,
    "4:3": 4 / 3,
    "1:1": 1.0,
    "2:3 comic page": 2 / 3,
    "9:16 vertical": 9 / 16,
}


def new_id() -> str:
    """A short random id: unique enough for one project, short enough to read in a diff."""
    return uuid.uuid4().hex[:12]


class BalloonKind(StrEnum):
    SPEECH = "speech"
    THOUGHT = "thought"
    WHISPER = "whisper"
    SHOUT = "shout"
    CAPTION = "caption"
    SFX = "sfx"


class TransitionKind(StrEnum):
    CUT = "cut"
    CROSSFADE = "crossfade"
    DIP_TO_BLACK = "dip_to_black"
    DIP_TO_WHITE = "dip_to_white"
    WIPE = "wipe"
    PUSH = "push"
    MORPH = "morph"
    GENERATED = "generated"  # a clip made by the Semantic Motion Predictor


# Where a wipe's edge or a push's motion travels to (Transition.direction).
TRANSITION_DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")


class ReadingOrder(StrEnum):
    LEFT_TO_RIGHT = "ltr"
    RIGHT_TO_LEFT = "rtl"


@dataclass(slots=True)
class Rect:
    """A rectangle in coordinates relative to its container (0..1 on both axes)."""

    x: Relative = 0.0
    y: Relative = 0.0
    w: RelativeSize = 1.0
    h: RelativeSize = 1.0


@dataclass(slots=True)
class Point:
    x: Relative = 0.5
    y: Relative = 0.5


@dataclass(slots=True)
class Balloon:
    """A lettering element drawn as vectors over the panel, so it survives regeneration."""

    id: str = field(default_factory=new_id)
    kind: BalloonKind = BalloonKind.SPEECH
    text: str = ""
    box: Rect = field(default_factory=lambda: Rect(0.05, 0.05, 0.4, 0.2))
    tail: Point | None = None  # where the tail points, relative to the panel
    character_id: str | None = None


@dataclass(slots=True)
class CameraMove:
    """Pan/zoom/rotate for the animatic: the framing at the panel's first and last frame."""

    start: Rect = field(default_factory=Rect)
    end: Rect = field(default_factory=Rect)
    easing: str = "ease-in-out"
    start_angle: Degrees = 0.0  # clockwise on screen
    end_angle: Degrees = 0.0


@dataclass(slots=True)
class Transition:
    """How this panel hands over to the next one in the animatic."""

    kind: TransitionKind = TransitionKind.CUT
    frames: TransitionFrames = 0
    direction: str = "left"  # one of TRANSITION_DIRECTIONS, for wipes and pushes
    clip: str | None = None  # asset id of a generated transition video (the GENERATED kind)


class LayerKind(StrEnum):
    SKETCH = "sketch"  # the artist's drawing; steers sketch-guided generation
    NOTES = "notes"  # directions for the team; never sent to the model
    MASK = "mask"  # where inpainting regenerates (opaque = regenerate)


class GuidanceMethod(StrEnum):
    TEXT = "text"  # the prompt alone (the sketch is only for people)
    IMG2IMG = "img2img"  # start from the image + sketch, keep ``strength`` of it away
    CONTROLNET = "controlnet"  # scribble/lineart ControlNet from the sketch lines
    T2I_ADAPTER = "t2i-adapter"  # sketch/lineart T2I-Adapter from the sketch lines
    INPAINT = "inpaint"  # regenerate only the mask layer's region of the accepted image


@dataclass(slots=True)
class PanelLayer:
    """A transparent PNG drawn over the panel image, the size of the panel's image.

    Layers are assets like images (immutable, content-addressed): every stroke makes a new PNG, so
    an undo is a field edit and old strokes never need restoring on disk.
    """

    kind: LayerKind = LayerKind.SKETCH
    asset: str | None = None  # None: nothing drawn yet
    opacity: Proportion = 1.0
    visible: bool = True
    # Where the layer came from, for the way back: Storyboarder's layer ("ink", "reference", ...)
    # of an imported board. Empty for layers drawn here.
    name: str = ""


@dataclass(slots=True)
class Guidance:
    """How the panel's drawing steers its next generation."""

    method: GuidanceMethod = GuidanceMethod.TEXT
    strength: Proportion = 0.6  # img2img/inpaint denoising strength, or ControlNet/adapter scale


@dataclass(slots=True)
class Candidate:
    """One generated (or imported) image for a panel, with how it was made.

    Candidates are never dropped by an edit: the artist may come back to any of them.
    """

    asset: str  # sha256 of the PNG in the project's asset store
    id: str = field(default_factory=new_id)
    prompt: str = ""
    negative_prompt: str = ""
    seed: Seed | None = None
    model: str = ""
    settings: dict[str, str | bool | SettingInt | SettingFloat | None] = field(default_factory=dict)
    created: str = ""  # ISO 8601, UTC


@dataclass(slots=True)
class Panel:
    id: str = field(default_factory=new_id)
    prompt: str = ""
    character_ids: list[str] = field(default_factory=list)
    # Optional box per character (relative to the panel) limiting where its identity applies.
    character_regions: dict[str, Rect] = field(default_factory=dict)
    dialogue: str = ""
    action: str = ""
    notes: str = ""
    balloons: list[Balloon] = field(default_factory=list)
    duration: Frames = 48  # frames at the project fps
    camera: CameraMove | None = None
    transition: Transition = field(default_factory=Transition)
    image: str | None = None  # accepted image: an asset id (sha256)
    candidates: list[Candidate] = field(default_factory=list)
    number_override: str | None = None  # a manual panel number ("3A-1") that sticks on reorder
    negative_prompt: str = ""
    style: str | None = None  # None: the project's default style
    seed: Seed | None = None
    seed_locked: bool = False
    audio: str | None = None  # asset id of the panel's sound (recorded dialogue, effects)
    audio_gain_db: Decibels = 0.0
    layers: list[PanelLayer] = field(default_factory=list)  # bottom to top, over the image
    balloon_space: list[Rect] = field(default_factory=list)  # kept simple for lettering
    guidance: Guidance = field(default_factory=Guidance)


@dataclass(slots=True)
class Scene:
    id: str = field(default_factory=new_id)
    title: str = ""
    notes: str = ""
    panel_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class IdentitySettings:
    """How a character's identity panels are made and shared (Consistent Self-Attention)."""

    identity_panels: IdentityPanels = 3
    sample_rate_low_res: Proportion = 0.5
    sample_rate_high_res: Proportion = 0.5
    enabled: bool = True


@dataclass(slots=True)
class LoraUse:
    """A LoRA file attached to a character, a style or the project, with its strength.

    ``file`` is a name, never a path: a ``.safetensors`` file (``/`` between subfolders) in the
    project's ``loras/`` folder or in one of the LoRA folders of the user's settings, found by
    :mod:`storyboard.core.lora_files` (which refuses anything that would lead elsewhere). A
    project from someone else therefore names LoRAs; it cannot point at files.
    """

    file: str = ""
    weight: LoraWeight = 1.0
    trigger_words: str = ""  # the words the LoRA was trained on, put into the prompt with it


@dataclass(slots=True)
class Character:
    id: str = field(default_factory=new_id)
    name: str = ""
    description: str = ""  # substituted for [Name] in prompts
    reference_images: list[str] = field(default_factory=list)  # asset ids
    seed: Seed = 0
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    # its look: applied to the panels that show it (not inside regional-prompt boxes), its
    # trigger words added to its description
    loras: list[LoraUse] = field(default_factory=list)


@dataclass(slots=True)
class PanelFrame:
    """Where one panel sits on a comic page (relative to the page's live area)."""

    panel_id: str
    box: Rect = field(default_factory=Rect)
    full_bleed: bool = False
    crop: Rect | None = None  # the part of the image shown (relative); None: centred cover


@dataclass(slots=True)
class Page:
    id: str = field(default_factory=new_id)
    template: str = "custom"
    frames: list[PanelFrame] = field(default_factory=list)


@dataclass(slots=True)
class GenerationSettings:
    model: str = "toyworld"  # the built-in model (resources/models/toyworld): works offline
    width: ImageSide = 1024
    height: ImageSide = 576
    steps: Steps = 30
    guidance: GuidanceScale = 5.0
    scheduler: str = "ddim"
    negative_prompt: str = ""
    seed: Seed = 0
    freeu: bool = False
    exact_size: bool = False  # keep width x height instead of the model's nearest native size


@dataclass(slots=True)
class PageMargins:
    """Comic page margins in points, from the trim to the panels (inner: the binding side)."""

    top: Points = 36.0
    bottom: Points = 36.0
    inner: Points = 36.0
    outer: Points = 36.0


@dataclass(slots=True)
class ProjectSettings:
    title: str = "Untitled"
    fps: Fps = 24.0
    aspect_ratio: AspectRatio = 16 / 9
    default_style: str = "comic-book"
    reading_order: ReadingOrder = ReadingOrder.LEFT_TO_RIGHT
    page_preset: str = "us-comic"
    page_gutter: Gutter = 10.8  # points between comic frames (0.15 in at print size)
    page_margins: PageMargins | None = None  # None: the page preset's margins
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    soundtrack: str | None = None  # asset id of the animatic's music lane, from frame 0
    soundtrack_gain_db: Decibels = 0.0
    fit_panels_to_audio: bool = False  # the animatic lengthens or shortens panels to their audio
    loras: list[LoraUse] = field(default_factory=list)  # applied to every panel
    style_loras: dict[str, list[LoraUse]] = field(default_factory=dict)  # style key -> its panels'


@dataclass(slots=True)
class Project:
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    scenes: dict[str, Scene] = field(default_factory=dict)
    scene_ids: list[str] = field(default_factory=list)
    panels: dict[str, Panel] = field(default_factory=dict)
    characters: dict[str, Character] = field(default_factory=dict)
    character_ids: list[str] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)
    page_ids: list[str] = field(default_factory=list)

    # -- ordered views -----------------------------------------------------------------------

    def ordered_scenes(self) -> list[Scene]:
        return [self.scenes[sid] for sid in self.scene_ids]

    def ordered_panels(self) -> list[Panel]:
        """Every panel in story order (scene by scene)."""
        return [self.panels[pid] for scene in self.ordered_scenes() for pid in scene.panel_ids]

    def ordered_characters(self) -> list[Character]:
        return [self.characters[cid] for cid in self.character_ids]

    def scene_of(self, panel_id: str) -> Scene:
        for scene in self.scenes.values():
            if panel_id in scene.panel_ids:
                return scene
        raise KeyError(panel_id)

    def character_named(self, name: str) -> Character | None:
        wanted = name.casefold()
        for character in self.characters.values():
            if character.name.casefold() == wanted:
                return character
        return None

    def referenced_assets(self) -> set[str]:
        """Every asset the project points at: accepted images, candidates, references, panel
        sounds, generated transition clips, drawn layers and the soundtrack."""
        assets: set[str] = set()
        for panel in self.panels.values():
            for asset in (panel.image, panel.audio, panel.transition.clip):
                if asset:
                    assets.add(asset)
            assets.update(c.asset for c in panel.candidates)
            assets.update(layer.asset for layer in panel.layers if layer.asset)
        for character in self.characters.values():
            assets.update(character.reference_images)
        if self.settings.soundtrack:
            assets.add(self.settings.soundtrack)
        return assets
